package speaker

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Labels of ServiceL2Status objects, as MetalLB sets them.
const (
	LabelNode             = "metallb.io/node"
	LabelServiceName      = "metallb.io/service-name"
	LabelServiceNamespace = "metallb.io/service-namespace"
)

// StatusSpec is one ServiceL2Status this node should have.
type StatusSpec struct {
	// Service is "namespace/name".
	Service string
	// Interfaces announcing it; nil when announced on all interfaces.
	Interfaces []string
	// Owners are the nodes that own at least one of the Service's IPs;
	// objects of other nodes for this Service are stale.
	Owners []string
}

// StatusWriter keeps this node's ServiceL2Status objects in line with the
// last Set, off the announcement path: Set returns at once, the writer
// catches up with the latest state (intermediate states are skipped) using
// a few parallel API calls.
type StatusWriter struct {
	Client    client.Client
	Namespace string
	Node      string
	// Owner, if set, becomes the objects' owner (the speaker Pod).
	Owner   *metav1.OwnerReference
	Log     *slog.Logger
	Workers int

	mu   sync.Mutex
	want map[string]StatusSpec
	kick chan struct{}
	// Our own writes the cache may not show yet: objects created (by
	// Service key) and deleted (by name).
	created map[string]pendingCreate
	deleted map[string]time.Time
}

type pendingCreate struct {
	name string // "" while the create is in flight
	at   time.Time
}

// NewStatusWriter returns a writer; run it with Start.
func NewStatusWriter(c client.Client, namespace, node string, log *slog.Logger) *StatusWriter {
	return &StatusWriter{Client: c, Namespace: namespace, Node: node, Log: log, Workers: 8,
		kick: make(chan struct{}, 1), created: map[string]pendingCreate{}, deleted: map[string]time.Time{}}
}

// Set replaces the desired objects.
func (w *StatusWriter) Set(want map[string]StatusSpec) {
	w.mu.Lock()
	w.want = want
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Start implements manager.Runnable: it syncs after every Set and every
// 30 s, until ctx ends.
func (w *StatusWriter) Start(ctx context.Context) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		case <-tick.C:
		}
		w.mu.Lock()
		want := w.want
		w.mu.Unlock()
		if want == nil {
			continue
		}
		if err := w.sync(ctx, want); err != nil && ctx.Err() == nil {
			w.Log.Warn("cannot sync ServiceL2Status objects", "error", err)
			time.AfterFunc(time.Second, w.poke)
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// speaker writes its own objects.
func (w *StatusWriter) NeedLeaderElection() bool { return false }

func (w *StatusWriter) sync(ctx context.Context, want map[string]StatusSpec) error {
	var list v1beta1.ServiceL2StatusList
	if err := w.Client.List(ctx, &list, client.InNamespace(w.Namespace)); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	inCache := map[string]bool{}
	for i := range list.Items {
		inCache[list.Items[i].Name] = true
	}
	// Forget what the cache has caught up with (or what is too old to
	// still be in flight).
	for name, at := range w.deleted {
		if !inCache[name] || now.Sub(at) > 30*time.Second {
			delete(w.deleted, name)
		}
	}
	var ops []func(context.Context) error
	mine := map[string]bool{}
	for key, p := range w.created {
		switch {
		case p.name != "" && inCache[p.name], now.Sub(p.at) > 30*time.Second:
			delete(w.created, key)
		case p.name == "":
			mine[key] = true // create in flight
		case want[key].Service == "":
			ops = append(ops, w.deleteOp(p.name))
			w.deleted[p.name] = now
			delete(w.created, key)
		default:
			mine[key] = true // created, not in the cache yet
		}
	}
	for i := range list.Items {
		obj := &list.Items[i]
		if _, gone := w.deleted[obj.Name]; gone {
			continue // deleted by us, the cache has not seen it yet
		}
		key := obj.Labels[LabelServiceNamespace] + "/" + obj.Labels[LabelServiceName]
		spec, wanted := want[key]
		if obj.Labels[LabelNode] != w.Node {
			// Another node's object for a Service we announce, from a node
			// that owns none of its IPs any more (it died or lost it).
			if wanted && !slices.Contains(spec.Owners, obj.Labels[LabelNode]) {
				ops = append(ops, w.deleteOp(obj.Name))
				w.deleted[obj.Name] = now
			}
			continue
		}
		if !wanted || mine[key] {
			ops = append(ops, w.deleteOp(obj.Name)) // withdrawn, or a duplicate
			w.deleted[obj.Name] = now
			continue
		}
		mine[key] = true
		if !w.statusMatches(obj, spec) {
			ops = append(ops, w.statusOp(obj.Name, key, spec))
		}
	}
	for key, spec := range want {
		if mine[key] {
			continue
		}
		w.created[key] = pendingCreate{at: now}
		ops = append(ops, w.createOp(key, spec))
	}
	inFlight := len(w.created) > 0 || len(w.deleted) > 0
	w.mu.Unlock()
	err := w.run(ctx, ops)
	w.mu.Lock()
	if inFlight {
		// Check again once the cache had time to catch up with our writes.
		time.AfterFunc(500*time.Millisecond, w.poke)
	}
	return err
}

func (w *StatusWriter) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run executes ops with bounded parallelism and returns the first error.
func (w *StatusWriter) run(ctx context.Context, ops []func(context.Context) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, max(1, w.Workers))
	for _, op := range ops {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := op(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

func (w *StatusWriter) statusMatches(obj *v1beta1.ServiceL2Status, spec StatusSpec) bool {
	var have []string
	for _, i := range obj.Status.Interfaces {
		have = append(have, i.Name)
	}
	ns, name, _ := strings.Cut(spec.Service, "/")
	return obj.Status.Node == w.Node && obj.Status.ServiceName == name &&
		obj.Status.ServiceNamespace == ns && slices.Equal(have, spec.Interfaces)
}

func (w *StatusWriter) deleteOp(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		o := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: name}}
		if err := w.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	}
}

func (w *StatusWriter) createOp(key string, spec StatusSpec) func(context.Context) error {
	return func(ctx context.Context) error {
		ns, name, _ := strings.Cut(key, "/")
		obj := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{
			Namespace:    w.Namespace,
			GenerateName: "l2-",
			Labels:       map[string]string{LabelNode: w.Node, LabelServiceName: name, LabelServiceNamespace: ns},
		}}
		if w.Owner != nil {
			obj.OwnerReferences = []metav1.OwnerReference{*w.Owner}
		}
		if err := w.Client.Create(ctx, obj); err != nil {
			w.mu.Lock()
			delete(w.created, key)
			w.mu.Unlock()
			return err
		}
		w.mu.Lock()
		if p, ok := w.created[key]; ok && p.name == "" {
			w.created[key] = pendingCreate{name: obj.Name, at: p.at}
		}
		w.mu.Unlock()
		return w.statusOp(obj.Name, key, spec)(ctx)
	}
}

// statusOp writes the status subresource (a create ignores status).
func (w *StatusWriter) statusOp(objName, key string, spec StatusSpec) func(context.Context) error {
	return func(ctx context.Context) error {
		ns, name, _ := strings.Cut(key, "/")
		st := v1beta1.MetalLBServiceL2Status{Node: w.Node, ServiceName: name, ServiceNamespace: ns}
		for _, i := range spec.Interfaces {
			st.Interfaces = append(st.Interfaces, v1beta1.InterfaceInfo{Name: i})
		}
		if st.Interfaces == nil {
			// A merge patch must clear interfaces explicitly.
			raw, _ := json.Marshal(map[string]any{"status": map[string]any{
				"node": st.Node, "serviceName": st.ServiceName, "serviceNamespace": st.ServiceNamespace, "interfaces": nil}})
			return w.patch(ctx, objName, raw)
		}
		raw, err := json.Marshal(map[string]any{"status": st})
		if err != nil {
			return err
		}
		return w.patch(ctx, objName, raw)
	}
}

func (w *StatusWriter) patch(ctx context.Context, objName string, raw []byte) error {
	o := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: objName}}
	err := w.Client.Status().Patch(ctx, o, client.RawPatch(types.MergePatchType, raw))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ownerRef returns a reference to the speaker Pod, or nil if it cannot be
// read (the objects are then unowned).
func ownerRef(ctx context.Context, r client.Reader, namespace, pod string) *metav1.OwnerReference {
	if pod == "" {
		return nil
	}
	var p corev1.Pod
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: pod}, &p); err != nil {
		return nil
	}
	return &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID}
}
