// Command kubeapi runs a throw-away Kubernetes API server (etcd plus
// kube-apiserver) for the demo and for manual testing:
//
//	go run ./hack/kubeapi -kubeconfig /tmp/ferrolb.kubeconfig [-crds config/crd/bases]
//
// It writes an admin kubeconfig, installs the CRDs of -crds when that folder
// holds any *.yaml file, prints "ready <url>" and runs until SIGINT or SIGTERM.
// The binaries come from FERROLB_K8S_BIN_DIR or hack/build-k8s.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "where to write the admin kubeconfig (required)")
	crds := flag.String("crds", "config/crd/bases", "folder of CRD *.yaml files to install, if it holds any")
	logDir := flag.String("log-dir", "", "keep etcd and kube-apiserver logs in this folder")
	verbose := flag.Bool("v", false, "copy etcd and kube-apiserver output to stderr")
	flag.Parse()
	if *kubeconfig == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*kubeconfig, *crds, *logDir, *verbose); err != nil {
		log.Fatal(err)
	}
}

func run(kubeconfig, crds, logDir string, verbose bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := kubeapi.Options{LogDir: logDir}
	if verbose {
		opts.LogWriter = os.Stderr
	}
	begin := time.Now()
	srv, err := kubeapi.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			log.Print(err)
		}
	}()
	if err := srv.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	if hasYAML(crds) {
		installCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := kubeapi.InstallCRDs(installCtx, srv.RESTConfig(), crds)
		cancel()
		if err != nil {
			return err
		}
		log.Printf("installed CRDs from %s", crds)
	}
	fmt.Printf("ready %s (kubeconfig %s, started in %v)\n", srv.URL(), kubeconfig, time.Since(begin).Round(time.Millisecond))
	<-ctx.Done()
	log.Print("stopping")
	return nil
}

// hasYAML reports whether dir exists and holds at least one *.yaml file.
func hasYAML(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	return len(files) > 0
}
