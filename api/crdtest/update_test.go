package crdtest

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func TestGracefulRestartImmutable(t *testing.T) {
	const msg = "EnableGracefulRestart cannot be changed after creation"
	ctx, e := setup(t)
	withGR := func(on bool) *v1beta2.BGPPeer {
		return peer(func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = on })
	}
	tests := []struct {
		name    string
		initial *v1beta2.BGPPeer
		edit    func(*v1beta2.BGPPeerSpec)
		wantErr string
	}{
		{name: "true to false", initial: withGR(true), edit: func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = false }, wantErr: msg},
		{name: "false to true", initial: withGR(false), edit: func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = true }, wantErr: msg},
		{name: "other fields may change", initial: withGR(true), edit: func(s *v1beta2.BGPPeerSpec) { s.Port, s.Password = 1179, "pw" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.initial
			if err := e.c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
			tt.edit(&p.Spec)
			checkErr(t, e.c.Update(ctx, p), tt.wantErr)
		})
	}

	// A client that writes the field explicitly as false is caught too.
	t.Run("true to explicit false", func(t *testing.T) {
		p := withGR(true)
		if err := e.c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("BGPPeer"))
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(p), u); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(u.Object, false, "spec", "enableGracefulRestart"); err != nil {
			t.Fatal(err)
		}
		checkErr(t, e.c.Update(ctx, u), msg)
	})
}

// statusCase edits the status of a freshly created object and says whether
// the status update must fail.
type statusCase struct {
	name    string
	edit    func(client.Object)
	wantErr string
}

// runStatus creates obj, writes its first status with set, then applies
// each case to a fresh copy.
func runStatus(t *testing.T, newObj func() client.Object, set func(client.Object), cases []statusCase) {
	t.Helper()
	ctx, e := setup(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObj()
			if err := e.c.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
			set(obj)
			if err := e.c.Status().Update(ctx, obj); err != nil {
				t.Fatalf("first status write: %v", err)
			}
			tc.edit(obj)
			checkErr(t, e.c.Status().Update(ctx, obj), tc.wantErr)
		})
	}
}

// immutable is the error for a changed status field that must not change.
func immutable(field string) string {
	return "status." + field + `: Invalid value: "string": Value is immutable`
}

func TestServiceL2StatusImmutable(t *testing.T) {
	st := func(o client.Object) *v1beta1.MetalLBServiceL2Status { return &o.(*v1beta1.ServiceL2Status).Status }
	runStatus(t,
		func() client.Object { return &v1beta1.ServiceL2Status{ObjectMeta: meta()} },
		func(o client.Object) {
			*st(o) = v1beta1.MetalLBServiceL2Status{Node: "node-1", ServiceName: "web", ServiceNamespace: "shop",
				Interfaces: []v1beta1.InterfaceInfo{{Name: "eth0"}}}
		},
		[]statusCase{
			{name: "node changed", edit: func(o client.Object) { st(o).Node = "node-2" }, wantErr: immutable("node")},
			{name: "serviceName changed", edit: func(o client.Object) { st(o).ServiceName = "api" }, wantErr: immutable("serviceName")},
			{name: "serviceNamespace changed", edit: func(o client.Object) { st(o).ServiceNamespace = "x" }, wantErr: immutable("serviceNamespace")},
			{name: "interfaces changed", edit: func(o client.Object) { st(o).Interfaces = []v1beta1.InterfaceInfo{{Name: "eth1"}} }},
		})
}

func TestServiceBGPStatusImmutable(t *testing.T) {
	st := func(o client.Object) *v1beta1.MetalLBServiceBGPStatus { return &o.(*v1beta1.ServiceBGPStatus).Status }
	runStatus(t,
		func() client.Object { return &v1beta1.ServiceBGPStatus{ObjectMeta: meta()} },
		func(o client.Object) {
			*st(o) = v1beta1.MetalLBServiceBGPStatus{Node: "node-1", ServiceName: "web", ServiceNamespace: "shop",
				Peers: []string{"a"}}
		},
		[]statusCase{
			{name: "node changed", edit: func(o client.Object) { st(o).Node = "node-2" }, wantErr: immutable("node")},
			{name: "serviceName changed", edit: func(o client.Object) { st(o).ServiceName = "api" }, wantErr: immutable("serviceName")},
			{name: "serviceNamespace changed", edit: func(o client.Object) { st(o).ServiceNamespace = "x" }, wantErr: immutable("serviceNamespace")},
			{name: "peers changed", edit: func(o client.Object) { st(o).Peers = []string{"a", "b"} }},
		})
}

func TestConfigurationStateStatus(t *testing.T) {
	st := func(o client.Object) *v1beta1.ConfigurationStateStatus {
		return &o.(*v1beta1.ConfigurationState).Status
	}
	cond := metav1.Condition{Type: "poolReconcilerValid", Status: metav1.ConditionTrue, Reason: "Reconciled",
		LastTransitionTime: metav1.Now()}
	runStatus(t,
		func() client.Object { return &v1beta1.ConfigurationState{ObjectMeta: meta()} },
		func(o client.Object) { st(o).Result = v1beta1.ConfigurationUnknown },
		[]statusCase{
			{name: "valid with a condition", edit: func(o client.Object) {
				st(o).Result, st(o).Conditions = v1beta1.ConfigurationValid, []metav1.Condition{cond}
			}},
			{name: "invalid with a summary", edit: func(o client.Object) {
				st(o).Result, st(o).ErrorSummary = v1beta1.ConfigurationInvalid, "pool a: bad CIDR"
			}},
			{name: "unknown result", edit: func(o client.Object) { st(o).Result = "Bogus" }, wantErr: "status.result: Unsupported value"},
			{name: "duplicate condition type", edit: func(o client.Object) {
				st(o).Conditions = []metav1.Condition{cond, cond}
			}, wantErr: "status.conditions[1]: Duplicate value"},
		})
}

// Status is a subresource: a spec write does not change it and a status
// write does not change the spec.
func TestPoolStatusSubresource(t *testing.T) {
	ctx, e := setup(t)
	p := pool(v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/24"}})
	p.Status.AssignedIPv4 = 7
	if err := e.c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Status.AssignedIPv4 != 0 {
		t.Errorf("create stored status %+v", p.Status)
	}
	p.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 3, AvailableIPv4: 253, AvailableIPv6: 0}
	p.Spec.Addresses = []string{"192.0.2.0/24"}
	if err := e.c.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	var got v1beta1.IPAddressPool
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(p), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.AssignedIPv4 != 3 || got.Status.AvailableIPv4 != 253 || got.Spec.Addresses[0] != "203.0.113.0/24" {
		t.Errorf("after status update: spec %v, status %+v", got.Spec.Addresses, got.Status)
	}
}
