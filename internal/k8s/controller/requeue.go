package controller

import (
	"context"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Requeuer is a controller-runtime source that lets the controller put
// Services back on the Service controller's queue: all of them after a
// configuration change, the waiting ones after addresses were released.
// Keys enqueued before the controller starts are kept and delivered then.
type Requeuer struct {
	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
	early []string
}

// Source returns the source to register with the Service controller.
func (q *Requeuer) Source() source.Source {
	return source.Func(func(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.queue = queue
		for _, k := range q.early {
			queue.Add(request(k))
		}
		q.early = nil
		return nil
	})
}

// Enqueue adds "namespace/name" keys to the queue. It never blocks.
func (q *Requeuer) Enqueue(keys ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		q.early = append(q.early, keys...)
		return
	}
	for _, k := range keys {
		q.queue.Add(request(k))
	}
}

func request(key string) reconcile.Request {
	ns, name, _ := strings.Cut(key, "/")
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
}
