package inspect

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testcluster "github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	kubeapi.Main(m)
}

// newClient returns a client of the shared API server with the CRDs
// installed, and a context bounded for the test.
func newClient(t *testing.T) (context.Context, client.Client) {
	t.Helper()
	_, c := testcluster.SharedClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx, c
}

// namespace creates a namespace of its own for the test.
func namespace(ctx context.Context, t *testing.T, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// create creates obj, then writes its status (the status subresource
// ignores status on create) with setStatus applied to the created object.
func create[T client.Object](ctx context.Context, t *testing.T, c client.Client, obj T, setStatus func(T)) T {
	t.Helper()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	if setStatus != nil {
		setStatus(obj)
		if err := c.Status().Update(ctx, obj); err != nil {
			t.Fatalf("writing the status of %T %s: %v", obj, obj.GetName(), err)
		}
	}
	return obj
}

func cond(typ string, status metav1.ConditionStatus, reason, msg string, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(at)}
}

func text(t *testing.T, r Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, FormatText, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
