package confstate

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Condition types and reasons, as in MetalLB; BGPSessionsReady is this
// project's addition (the speaker's BGP sessions, for `kubectl metallb`).
const (
	TypeControllerValid = "poolReconcilerValid"
	TypeSpeakerValid    = "configReconcilerValid"
	TypeBGPSessions     = "bgpSessionsReady"

	ReasonReconciled         = "Reconciled"
	ReasonConfigurationError = "ConfigurationError"
	ReasonUnknownError       = "UnknownError"

	ReasonAllEstablished = "AllEstablished"
	ReasonSessionsDown   = "SessionsDown"
	ReasonNoPeers        = "NoPeers"
)

// Labels of the objects.
const (
	LabelComponent = "metallb.io/component-type"
	LabelNode      = "metallb.io/node-name"
)

// Options names the object a Reporter writes.
type Options struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// FieldOwner is the server-side apply field manager.
	FieldOwner string
	Log        *slog.Logger
	// Resync is how often the object is checked against the desired state
	// (and re-created after a deletion); default 30 s.
	Resync time.Duration
	// Now is the clock for condition transition times; default time.Now.
	Now func() time.Time
}

// ControllerOptions names the controller's object.
func ControllerOptions(namespace string) Options {
	return Options{Namespace: namespace, Name: "controller", FieldOwner: "poolReconciler",
		Labels: map[string]string{LabelComponent: "controller"}}
}

// SpeakerOptions names the object of the speaker on node.
func SpeakerOptions(namespace, node string) Options {
	return Options{Namespace: namespace, Name: "speaker-" + node, FieldOwner: "configReconciler",
		Labels: map[string]string{LabelComponent: "speaker", LabelNode: node}}
}

// Reporter keeps a component's conditions and applies them to its
// ConfigurationState object. Set may be called from any goroutine.
type Reporter struct {
	c    client.Client
	r    client.Reader
	o    Options
	kick chan struct{}

	mu      sync.Mutex
	conds   map[string]metav1.Condition
	owner   *metav1.OwnerReference
	version uint64 // bumped by every change
}

// New returns a Reporter writing through c and reading the object back
// through r (an uncached reader is best: the check must see deletions).
func New(c client.Client, r client.Reader, o Options) *Reporter {
	if o.Resync <= 0 {
		o.Resync = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{c: c, r: r, o: o, kick: make(chan struct{}, 1), conds: map[string]metav1.Condition{}}
}

// Set records a condition. Its transition time moves only when its status
// changes; an identical condition is a no-op.
func (p *Reporter) Set(cond metav1.Condition) {
	p.mu.Lock()
	old, ok := p.conds[cond.Type]
	if ok && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message {
		p.mu.Unlock()
		return
	}
	if ok && old.Status == cond.Status {
		cond.LastTransitionTime = old.LastTransitionTime
	} else {
		cond.LastTransitionTime = metav1.NewTime(p.o.Now().Truncate(time.Second))
	}
	p.conds[cond.Type] = cond
	p.version++
	p.mu.Unlock()
	p.poke()
}

// SetConfigErrors sets condType from a list of configuration error
// messages: True/Reconciled when there are none, False/ConfigurationError
// with the messages (one per line) otherwise.
func (p *Reporter) SetConfigErrors(condType string, msgs []string) {
	if len(msgs) == 0 {
		p.Set(metav1.Condition{Type: condType, Status: metav1.ConditionTrue, Reason: ReasonReconciled,
			Message: "the configuration is valid"})
		return
	}
	p.Set(metav1.Condition{Type: condType, Status: metav1.ConditionFalse, Reason: ReasonConfigurationError,
		Message: strings.Join(msgs, "\n")})
}

// SetOwner sets the owner reference of the object (the component's Pod).
func (p *Reporter) SetOwner(o *metav1.OwnerReference) {
	p.mu.Lock()
	p.owner = o
	p.version++
	p.mu.Unlock()
	p.poke()
}

func (p *Reporter) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Status returns the status the object should have.
func (p *Reporter) Status() v1beta1.ConfigurationStateStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.statusLocked()
}

func (p *Reporter) statusLocked() v1beta1.ConfigurationStateStatus {
	st := v1beta1.ConfigurationStateStatus{Result: v1beta1.ConfigurationUnknown}
	var errs []string
	for _, t := range slices.Sorted(maps.Keys(p.conds)) {
		c := p.conds[t]
		st.Conditions = append(st.Conditions, c)
		if c.Status == metav1.ConditionFalse && c.Reason == ReasonConfigurationError {
			errs = append(errs, c.Message)
		}
	}
	switch {
	case len(st.Conditions) == 0:
	case len(errs) > 0:
		st.Result = v1beta1.ConfigurationInvalid
		st.ErrorSummary = strings.Join(errs, "\n")
	default:
		st.Result = v1beta1.ConfigurationValid
	}
	return st
}

// Start applies the object whenever the conditions change, and checks it
// every Resync. It returns when ctx ends.
func (p *Reporter) Start(ctx context.Context) error {
	tick := time.NewTicker(p.o.Resync)
	defer tick.Stop()
	var applied uint64
	backoff := time.Second
	retry := time.NewTimer(0)
	if !retry.Stop() {
		<-retry.C
	}
	for {
		check := false
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
		case <-retry.C:
		case <-tick.C:
			check = true
		}
		p.mu.Lock()
		v, n := p.version, len(p.conds)
		p.mu.Unlock()
		if n == 0 || (v == applied && !check) {
			continue
		}
		if v == applied && check && p.upToDate(ctx) {
			continue
		}
		if err := p.apply(ctx); err != nil {
			p.o.Log.Warn("cannot write ConfigurationState", "name", p.o.Name, "error", err, "retry", backoff)
			retry.Reset(backoff)
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		applied = v
	}
}

// upToDate reports whether the stored object carries the desired status.
func (p *Reporter) upToDate(ctx context.Context) bool {
	var cur v1beta1.ConfigurationState
	if err := p.r.Get(ctx, types.NamespacedName{Namespace: p.o.Namespace, Name: p.o.Name}, &cur); err != nil {
		return !apierrors.IsNotFound(err) // unknown: try again at the next tick
	}
	want := p.Status()
	if cur.Status.Result != want.Result || cur.Status.ErrorSummary != want.ErrorSummary ||
		len(cur.Status.Conditions) != len(want.Conditions) {
		return false
	}
	for _, w := range want.Conditions {
		c := meta.FindStatusCondition(cur.Status.Conditions, w.Type)
		if c == nil || c.Status != w.Status || c.Reason != w.Reason || c.Message != w.Message {
			return false
		}
	}
	return true
}

// apply writes the object, then its status, with server-side apply.
func (p *Reporter) apply(ctx context.Context) error {
	p.mu.Lock()
	st := p.statusLocked()
	owner := p.owner
	p.mu.Unlock()

	obj := p.object(owner)
	opts := []client.PatchOption{client.FieldOwner(p.o.FieldOwner), client.ForceOwnership}
	if err := p.c.Patch(ctx, obj, client.Apply, opts...); err != nil {
		return err
	}
	obj = p.object(nil)
	conds := make([]any, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		conds = append(conds, map[string]any{
			"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
			"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
		})
	}
	// The summary is always applied, empty too, so that this manager owns
	// it and clears what anybody else wrote there.
	status := map[string]any{"result": string(st.Result), "conditions": conds, "errorSummary": st.ErrorSummary}
	obj.Object["status"] = status
	return p.c.Status().Patch(ctx, obj, client.Apply, client.FieldOwner(p.o.FieldOwner), client.ForceOwnership)
}

func (p *Reporter) object(owner *metav1.OwnerReference) *unstructured.Unstructured {
	md := map[string]any{"name": p.o.Name, "namespace": p.o.Namespace}
	if len(p.o.Labels) > 0 {
		l := map[string]any{}
		for k, v := range p.o.Labels {
			l[k] = v
		}
		md["labels"] = l
	}
	if owner != nil {
		md["ownerReferences"] = []any{map[string]any{
			"apiVersion": owner.APIVersion, "kind": owner.Kind, "name": owner.Name, "uid": string(owner.UID),
		}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1beta1.GroupVersion.String(), "kind": "ConfigurationState", "metadata": md,
	}}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable. A Reporter
// runs on every replica but writes only once it holds a condition, which
// in the controller only the leader's reconcilers set.
func (p *Reporter) NeedLeaderElection() bool { return false }
