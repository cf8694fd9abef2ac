package kubeapi

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// LogDirEnv names an environment variable: when set, the shared server writes
// its logs there and keeps them (useful as a CI artifact).
const LogDirEnv = "FERROLB_KUBEAPI_LOG_DIR"

var shared struct {
	mainInUse bool // set by Main, before any test runs
	once      sync.Once
	srv       *Server
	err       error
}

// Main runs a package's tests and then stops the server Shared started, if
// any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { kubeapi.Main(m) }
func Main(m *testing.M) {
	shared.mainInUse = true
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kubeapi: stopping the shared API server: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// Shared returns an admin config for the test binary's one API server,
// starting it on first use. It fails the test if the server cannot be
// started, or if the package's TestMain does not call Main (which stops it).
func Shared(t testing.TB) *rest.Config {
	t.Helper()
	if !shared.mainInUse {
		t.Fatal("kubeapi.Shared needs the package's TestMain to call kubeapi.Main(m)")
	}
	shared.once.Do(func() {
		shared.srv, shared.err = Start(context.Background(), Options{LogDir: os.Getenv(LogDirEnv)})
	})
	if shared.err != nil {
		t.Fatalf("kubeapi: cannot start the shared API server: %v", shared.err)
	}
	return shared.srv.RESTConfig()
}
