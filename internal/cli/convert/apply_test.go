package convert

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) { kubeapi.Main(m) }

// TestOutputAcceptedByAPIServer creates the objects of every golden case
// in a real API server with the project's CRDs: the schema and CEL rules
// must accept what convert prints.
func TestOutputAcceptedByAPIServer(t *testing.T) {
	_, c := cluster.SharedClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for name, opts := range goldenCases {
		t.Run(name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "convert-"}}
			if err := c.Create(ctx, ns); err != nil {
				t.Fatal(err)
			}
			in, err := os.ReadFile(filepath.Join("testdata", name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			opts.Namespace = ns.Name
			res, err := Convert(in, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Objects) == 0 {
				t.Fatal("no objects")
			}
			for _, o := range res.Objects {
				if err := c.Create(ctx, o); err != nil {
					t.Errorf("the API server rejects %s %q: %v", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
				}
			}
		})
	}
}
