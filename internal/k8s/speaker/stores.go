package speaker

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Stores reads Services and EndpointSlices straight from the informers'
// stores: a pass gets the cached objects themselves, where a cache List
// copies every object into a new list (a megabyte per pass with a
// thousand Services, several passes a second during a burst). The objects
// are shared with the cache: read-only.
type Stores struct {
	Services, EndpointSlices toolscache.Store
}

// NewStores returns the stores of c's Service and EndpointSlice
// informers (creating the informers if needed).
func NewStores(ctx context.Context, c cache.Cache) (*Stores, error) {
	store := func(obj client.Object) (toolscache.Store, error) {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		s, ok := inf.(interface{ GetStore() toolscache.Store })
		if !ok {
			return nil, fmt.Errorf("the %T informer (%T) has no store", obj, inf)
		}
		return s.GetStore(), nil
	}
	svc, err := store(&corev1.Service{})
	if err != nil {
		return nil, err
	}
	eps, err := store(&discoveryv1.EndpointSlice{})
	if err != nil {
		return nil, err
	}
	return &Stores{Services: svc, EndpointSlices: eps}, nil
}

// list returns the Services and EndpointSlices, from the stores when set,
// else through c.
func (s *Stores) list(ctx context.Context, c client.Client) ([]*corev1.Service, []*discoveryv1.EndpointSlice, error) {
	if s == nil {
		var svcs corev1.ServiceList
		var eps discoveryv1.EndpointSliceList
		if err := c.List(ctx, &svcs, client.UnsafeDisableDeepCopy); err != nil {
			return nil, nil, fmt.Errorf("listing Services: %w", err)
		}
		if err := c.List(ctx, &eps, client.UnsafeDisableDeepCopy); err != nil {
			return nil, nil, fmt.Errorf("listing EndpointSlices: %w", err)
		}
		out := make([]*corev1.Service, len(svcs.Items))
		for i := range svcs.Items {
			out[i] = &svcs.Items[i]
		}
		outEps := make([]*discoveryv1.EndpointSlice, len(eps.Items))
		for i := range eps.Items {
			outEps[i] = &eps.Items[i]
		}
		return out, outEps, nil
	}
	objs := s.Services.List()
	svcs := make([]*corev1.Service, 0, len(objs))
	for _, o := range objs {
		if svc, ok := o.(*corev1.Service); ok {
			svcs = append(svcs, svc)
		}
	}
	objs = s.EndpointSlices.List()
	eps := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if sl, ok := o.(*discoveryv1.EndpointSlice); ok {
			eps = append(eps, sl)
		}
	}
	return svcs, eps, nil
}
