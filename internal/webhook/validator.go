package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
)

// Validator judges admission requests for the metallb.io configuration
// kinds with the configuration compiler the controller and the speaker
// run: the object is valid when the namespace's configuration with the
// change has no new error on it.
type Validator struct {
	// Reader lists objects uncached (the manager's APIReader), so two
	// quick creates see each other.
	Reader client.Reader
	// Namespace is the controller's namespace: the only one whose objects
	// are configuration.
	Namespace string
	Log       *slog.Logger
}

// disableMPWarning is MetalLB's warning for BGPPeer.spec.disableMP.
const disableMPWarning = "disable mp is deprecated and has no effect since it's the default behavior now"

// Handler returns the admission handler for objects of kind.
func (v *Validator) Handler(kind config.Kind) admission.Handler {
	return admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		resp := v.handle(ctx, kind, req)
		if !resp.Allowed {
			v.Log.Info("admission denied", "kind", kind, "namespace", req.Namespace, "name", req.Name,
				"operation", req.Operation, "reason", resp.Result.Message)
		}
		return resp
	})
}

func (v *Validator) handle(ctx context.Context, kind config.Kind, req admission.Request) admission.Response {
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	case admissionv1.Delete:
		if kind == config.KindBFDProfile {
			return v.deleteBFDProfile(ctx, req)
		}
		return admission.Allowed("")
	default:
		return admission.Allowed("")
	}
	obj, err := decode(kind, req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	var warn []string
	if p, ok := obj.(*v1beta2.BGPPeer); ok && p.Spec.DisableMP {
		warn = append(warn, disableMPWarning)
	}
	if req.Namespace != v.Namespace {
		if req.Operation == admissionv1.Create {
			return admission.Denied(fmt.Sprintf("resource must be created in %s namespace", v.Namespace))
		}
		// Left over from before the webhook ran: not configuration.
		return admission.Allowed("").WithWarnings(append(warn,
			fmt.Sprintf("%s %q is not in namespace %s: it is ignored", kind, req.Name, v.Namespace))...)
	}

	objs, err := v.list(ctx)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	before := snapshot.Build(objs)
	put(&objs, obj)
	after := snapshot.Build(objs)
	blankTransient(&before)
	blankTransient(&after)
	_, beforeErrs := config.Compile(before)
	_, afterErrs := config.Compile(after)
	name := obj.GetName()
	deny, others := verdict(kind, name, beforeErrs, afterErrs)
	if len(deny) > 0 {
		return admission.Denied(denyMessage(deny)).WithWarnings(warn...)
	}
	return admission.Allowed("").WithWarnings(append(warn, warnings(others)...)...)
}

// deleteBFDProfile refuses to delete a BFDProfile a BGPPeer uses.
func (v *Validator) deleteBFDProfile(ctx context.Context, req admission.Request) admission.Response {
	if req.Namespace != v.Namespace {
		return admission.Allowed("")
	}
	var peers v1beta2.BGPPeerList
	if err := v.Reader.List(ctx, &peers, client.InNamespace(v.Namespace)); err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("listing BGPPeers: %w", err))
	}
	var users []string
	for _, p := range peers.Items {
		if p.Spec.BFDProfile == req.Name {
			users = append(users, p.Name)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return admission.Denied(fmt.Sprintf("failed to delete BFDProfile %s, used by BGPPeer %s", req.Name, strings.Join(users, ", ")))
	}
	return admission.Allowed("")
}

// decode returns the request's object as the type the compiler's snapshot
// takes (BGPPeer v1beta1 is converted to v1beta2).
func decode(kind config.Kind, req admission.Request) (client.Object, error) {
	var obj client.Object
	switch kind {
	case config.KindPool:
		obj = &v1beta1.IPAddressPool{}
	case config.KindL2Advertisement:
		obj = &v1beta1.L2Advertisement{}
	case config.KindBGPAdvertisement:
		obj = &v1beta1.BGPAdvertisement{}
	case config.KindBFDProfile:
		obj = &v1beta1.BFDProfile{}
	case config.KindCommunity:
		obj = &v1beta1.Community{}
	case config.KindBGPPeer:
		if req.Kind.Version == v1beta1.GroupVersion.Version {
			old := &v1beta1.BGPPeer{}
			if err := json.Unmarshal(req.Object.Raw, old); err != nil {
				return nil, fmt.Errorf("decoding %s: %w", kind, err)
			}
			p := &v1beta2.BGPPeer{}
			if err := old.ConvertTo(p); err != nil {
				return nil, err
			}
			return p, nil
		}
		obj = &v1beta2.BGPPeer{}
	default:
		return nil, fmt.Errorf("no validation for kind %s", kind)
	}
	if req.Kind.Kind != "" && req.Kind.Kind != string(kind) {
		return nil, fmt.Errorf("this webhook validates %s, not %s", kind, req.Kind.Kind)
	}
	if len(req.Object.Raw) == 0 {
		return nil, fmt.Errorf("decoding %s: the request carries no object", kind)
	}
	if err := json.Unmarshal(req.Object.Raw, obj); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", kind, err)
	}
	return obj, nil
}

// list reads the namespace's configuration and the nodes, uncached.
// Secrets are not read: passwordSecret references are not judged at
// admission (see blankTransient).
func (v *Validator) list(ctx context.Context) (snapshot.Objects, error) {
	var (
		out   snapshot.Objects
		pools v1beta1.IPAddressPoolList
		l2s   v1beta1.L2AdvertisementList
		bgps  v1beta1.BGPAdvertisementList
		peers v1beta2.BGPPeerList
		bfds  v1beta1.BFDProfileList
		comms v1beta1.CommunityList
		nodes metav1.PartialObjectMetadataList
	)
	in := client.InNamespace(v.Namespace)
	for _, l := range []struct {
		what string
		list client.ObjectList
	}{
		{"IPAddressPools", &pools}, {"L2Advertisements", &l2s}, {"BGPAdvertisements", &bgps},
		{"BGPPeers", &peers}, {"BFDProfiles", &bfds}, {"Communities", &comms},
	} {
		if err := v.Reader.List(ctx, l.list, in); err != nil {
			return out, fmt.Errorf("listing %s: %w", l.what, err)
		}
	}
	nodes.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NodeList"))
	if err := v.Reader.List(ctx, &nodes); err != nil {
		return out, fmt.Errorf("listing Nodes: %w", err)
	}
	out = snapshot.Objects{
		Pools:             pools.Items,
		L2Advertisements:  l2s.Items,
		BGPAdvertisements: bgps.Items,
		BGPPeers:          peers.Items,
		BFDProfiles:       bfds.Items,
		Communities:       comms.Items,
	}
	for _, n := range nodes.Items {
		out.Nodes = append(out.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}})
	}
	return out, nil
}

// put replaces the object of the same kind and name in objs, or appends
// it.
func put(objs *snapshot.Objects, obj client.Object) {
	switch o := obj.(type) {
	case *v1beta1.IPAddressPool:
		objs.Pools = replace(objs.Pools, *o)
	case *v1beta1.L2Advertisement:
		objs.L2Advertisements = replace(objs.L2Advertisements, *o)
	case *v1beta1.BGPAdvertisement:
		objs.BGPAdvertisements = replace(objs.BGPAdvertisements, *o)
	case *v1beta2.BGPPeer:
		objs.BGPPeers = replace(objs.BGPPeers, *o)
	case *v1beta1.BFDProfile:
		objs.BFDProfiles = replace(objs.BFDProfiles, *o)
	case *v1beta1.Community:
		objs.Communities = replace(objs.Communities, *o)
	}
}

// named is a metallb.io object value whose pointer is a client.Object.
type named[T any] interface {
	*T
	client.Object
}

// replace returns a copy of list with item in place of the element of the
// same name, or appended.
func replace[T any, P named[T]](list []T, item T) []T {
	out := slices.Clone(list)
	name := P(&item).GetName()
	for i := range out {
		if P(&out[i]).GetName() == name {
			out[i] = item
			return out
		}
	}
	return append(out, item)
}
