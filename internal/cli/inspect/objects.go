package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/cli/sessions"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
)

// Names and labels of the objects the components write (the API contract
// shared with the controller and the speaker).
const (
	// ServiceL2Status / ServiceBGPStatus labels.
	labelStatusNode       = "metallb.io/node"
	labelServiceName      = "metallb.io/service-name"
	labelServiceNamespace = "metallb.io/service-namespace"

	// ConfigurationState labels, object names and condition types.
	labelComponent       = "metallb.io/component-type"
	labelNodeName        = "metallb.io/node-name"
	controllerStateName  = "controller"
	speakerStatePrefix   = "speaker-"
	componentController  = "controller"
	componentSpeaker     = "speaker"
	resultUnknown        = string(v1beta1.ConfigurationUnknown)
	defaultMetalLBNSName = "metallb-system"
)

// Options tune Explain and Status.
type Options struct {
	// Namespace is MetalLB's namespace; empty means metallb-system.
	Namespace string
	// LBClass is the controller's --lb-class: empty means MetalLB handles
	// only Services without a loadBalancerClass.
	LBClass string
	// MaxEvents bounds the warning events Explain shows; 0 means 5.
	MaxEvents int
	// Now is the clock for ages; nil means time.Now.
	Now func() time.Time
}

func (o Options) namespace() string {
	if o.Namespace == "" {
		return defaultMetalLBNSName
	}
	return o.Namespace
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Component is the ConfigurationState of the controller or of one speaker.
type Component struct {
	// Name of the ConfigurationState object.
	Name string `json:"name"`
	// Kind is "controller" or "speaker".
	Kind string `json:"kind"`
	Node string `json:"node,omitempty"`
	// Result is Valid, Invalid or Unknown.
	Result       string `json:"result"`
	ErrorSummary string `json:"errorSummary,omitempty"`
	// Missing is set when the object does not exist (the component never
	// reported, or it is not running).
	Missing    bool        `json:"missing,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`

	// sessions is the speaker's bgpSessionsReady condition, if any.
	sessions *metav1.Condition
}

// Condition is a status condition, trimmed for display.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
}

func condition(c metav1.Condition) Condition {
	return Condition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
		LastTransitionTime: c.LastTransitionTime.Time}
}

// components reads every ConfigurationState of the namespace: the
// controller first (a placeholder when missing), then the speakers by node.
func components(ctx context.Context, c client.Reader, ns string) ([]Component, error) {
	var list v1beta1.ConfigurationStateList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing ConfigurationStates in %s: %w", ns, err)
	}
	var ctrl *Component
	var speakers []Component
	for _, o := range list.Items {
		comp := Component{Name: o.Name, Result: string(o.Status.Result), ErrorSummary: o.Status.ErrorSummary}
		if comp.Result == "" {
			comp.Result = resultUnknown
		}
		for i, cond := range o.Status.Conditions {
			comp.Conditions = append(comp.Conditions, condition(cond))
			if cond.Type == sessions.ConditionType {
				comp.sessions = &o.Status.Conditions[i]
			}
		}
		switch {
		case o.Name == controllerStateName || o.Labels[labelComponent] == componentController:
			comp.Kind = componentController
			ctrl = &comp
		case o.Labels[labelComponent] == componentSpeaker || strings.HasPrefix(o.Name, speakerStatePrefix):
			comp.Kind = componentSpeaker
			comp.Node = o.Labels[labelNodeName]
			if comp.Node == "" {
				comp.Node = strings.TrimPrefix(o.Name, speakerStatePrefix)
			}
			speakers = append(speakers, comp)
		}
	}
	if ctrl == nil {
		ctrl = &Component{Name: controllerStateName, Kind: componentController, Result: resultUnknown, Missing: true}
	}
	slices.SortFunc(speakers, func(a, b Component) int { return strings.Compare(a.Node, b.Node) })
	return append([]Component{*ctrl}, speakers...), nil
}

// nodeSessions returns a speaker's sessions, and whether it reports them.
func (c *Component) nodeSessions() ([]sessions.Session, bool) {
	if c.sessions == nil {
		return nil, false
	}
	if c.sessions.Reason == sessions.ReasonNoPeers {
		return nil, true
	}
	return sessions.Parse(c.sessions.Message), true
}

// compiled is the configuration as the components compile it, from the
// objects in the API.
type compiled struct {
	cfg   *config.Config
	pools []v1beta1.IPAddressPool
	errs  config.Errors
}

func compileConfig(ctx context.Context, c client.Reader, ns string) (*compiled, error) {
	var (
		pools v1beta1.IPAddressPoolList
		l2    v1beta1.L2AdvertisementList
		bgp   v1beta1.BGPAdvertisementList
		comm  v1beta1.CommunityList
	)
	for _, l := range []client.ObjectList{&pools, &l2, &bgp, &comm} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing %T in %s: %w", l, ns, err)
		}
	}
	cfg, errs := config.Compile(snapshot.Build(snapshot.Objects{
		Pools:             pools.Items,
		L2Advertisements:  l2.Items,
		BGPAdvertisements: bgp.Items,
		Communities:       comm.Items,
	}))
	return &compiled{cfg: cfg, pools: pools.Items, errs: errs}, nil
}
