package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

var sharedCRDs struct {
	once sync.Once
	err  error
}

// SharedClient returns the test binary's shared API server
// (kubeapi.Shared: the package's TestMain calls kubeapi.Main) with the
// metallb.io CRDs installed, once per test binary, and a client that
// knows the project's kinds.
func SharedClient(t testing.TB) (*rest.Config, client.Client) {
	t.Helper()
	cfg := kubeapi.Shared(t)
	sharedCRDs.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		dir, err := kubeapi.CRDDir()
		if err == nil {
			err = kubeapi.InstallCRDs(ctx, cfg, dir)
		}
		sharedCRDs.err = err
	})
	if sharedCRDs.err != nil {
		t.Fatalf("installing the CRDs: %v", sharedCRDs.err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, c
}
