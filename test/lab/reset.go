package lab

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ResetTest undoes what a test did to a lab that tests share: the
// Services and EndpointSlices of its namespace ns, the configuration
// objects it created (newest first), whatever resetNode puts back on each
// node (labels, conditions), every node's link up, and every exited
// speaker restarted. It goes on after an error and returns them all.
func (l *Lab) ResetTest(ctx context.Context, ns string, cfg []client.Object, resetNode func(ctx context.Context, node string) error) error {
	c := l.Cluster.Client
	var errs []error
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs, client.InNamespace(ns)); err != nil {
		errs = append(errs, err)
	}
	for i := range svcs.Items {
		if err := c.Delete(ctx, &svcs.Items[i]); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	// Nothing garbage-collects here: the slices go by hand.
	if err := c.DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(ns)); err != nil {
		errs = append(errs, err)
	}
	for i := len(cfg) - 1; i >= 0; i-- {
		if err := c.Delete(ctx, cfg[i]); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	for _, n := range l.Nodes {
		if err := resetNode(ctx, n.Name); err != nil {
			errs = append(errs, err)
		}
		if err := l.LinkUp(ctx, n.Name); err != nil {
			errs = append(errs, err)
		}
		if p, err := l.Speaker(n.Name); err != nil {
			errs = append(errs, err)
		} else if p.Exited() {
			if err := l.RestartSpeaker(ctx, n.Name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
