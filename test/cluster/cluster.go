package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// Namespace is where the metallb.io configuration lives in the local
// cluster, as in a MetalLB installation.
const Namespace = "metallb-system"

// Cluster is a running local control plane.
type Cluster struct {
	API        *kubeapi.Server
	Config     *rest.Config
	Client     client.Client
	Kubeconfig string
	Dir        string
	procs      []*Proc
}

// Options configures Start.
type Options struct {
	// Dir holds the kubeconfig and process logs; empty means a new
	// temporary directory.
	Dir string
	// API configures the API server.
	API kubeapi.Options
}

// Scheme knows the built-in kinds and the metallb.io kinds.
func Scheme() *runtime.Scheme { return wiring.Scheme() }

// Start launches the API server, installs the CRDs and creates the
// metallb-system namespace.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ferrolb-cluster-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if opts.API.LogDir == "" {
		opts.API.LogDir = filepath.Join(dir, "logs")
	}
	api, err := kubeapi.Start(ctx, opts.API)
	if err != nil {
		return nil, err
	}
	c := &Cluster{API: api, Config: api.RESTConfig(), Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig")}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if err := api.WriteKubeconfig(c.Kubeconfig); err != nil {
		return nil, err
	}
	crds, err := kubeapi.CRDDir()
	if err != nil {
		return nil, err
	}
	if err := kubeapi.InstallCRDs(ctx, c.Config, crds); err != nil {
		return nil, err
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: Scheme()}); err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}
	if err := c.Client.Create(ctx, ns); err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	return c, nil
}

// Stop ends every process the cluster started, then the API server.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		_ = c.procs[i].Stop()
	}
	c.procs = nil
	if c.API != nil {
		_ = c.API.Stop()
	}
}
