package certs

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

// watchNamed runs an informer on the one object called name (of the
// resource served by getter, in namespace, "" for cluster-scoped ones)
// until ctx ends. changed receives the object after every add or update,
// and nil after a delete. The informer re-lists and re-watches on its own
// after errors.
func watchNamed(ctx context.Context, getter cache.Getter, resource, namespace, name string, example runtime.Object, changed func(obj any)) {
	lw := cache.NewFilteredListWatchFromClient(getter, resource, namespace, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	})
	inf := cache.NewSharedIndexInformer(lw, example, 0, cache.Indexers{})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { changed(obj) },
		UpdateFunc: func(_, obj any) { changed(obj) },
		DeleteFunc: func(any) { changed(nil) },
	})
	inf.RunWithContext(ctx)
}
