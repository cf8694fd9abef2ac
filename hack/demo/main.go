// Command demo runs the local demonstration behind `make demo`: a real API
// server, the controller, the example pools and Services of
// config/samples, and a table of what each Service got and why.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"golang.org/x/term"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		return err
	}
	step("starting etcd and kube-apiserver, installing the metallb.io CRDs")
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return err
	}
	defer func() {
		step("tearing down")
		c.Stop()
		_ = os.RemoveAll(c.Dir)
	}()
	step("starting the controller")
	ctl, err := c.StartController("controller")
	if err != nil {
		return err
	}
	for _, f := range []string{"pools.yaml", "services.yaml"} {
		step("applying config/samples/" + f)
		if err := c.ApplyFile(ctx, filepath.Join(root, "config", "samples", f)); err != nil {
			return err
		}
	}
	step("waiting for the controller to decide every Service")
	svcs, err := waitDecided(ctx, c.Client, ctl, 30*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, ctl.Tail(20))
		return err
	}
	printTable(svcs)

	if term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Printf("\nThe cluster keeps running. Inspect it with:\n  KUBECONFIG=%s kubectl get svc -A\n", c.Kubeconfig)
		fmt.Printf("Controller log: %s\nPress Ctrl-C to tear everything down.\n", ctl.Log)
		<-ctx.Done()
	}
	return nil
}

func step(msg string) { fmt.Println("==>", msg) }

// waitDecided polls until every LoadBalancer Service carries the
// controller's condition.
func waitDecided(ctx context.Context, c client.Client, ctl *cluster.Proc, timeout time.Duration) ([]corev1.Service, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var list corev1.ServiceList
		if err := c.List(ctx, &list, client.InNamespace("default")); err == nil {
			var lbs []corev1.Service
			decided := true
			for _, s := range list.Items {
				if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
					continue
				}
				lbs = append(lbs, s)
				if condition(&s) == nil {
					decided = false
				}
			}
			if decided && len(lbs) > 0 {
				return lbs, nil
			}
		}
		if ctl.Exited() {
			return nil, fmt.Errorf("the controller exited")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("services not decided in %s", timeout)
		case <-tick.C:
		}
	}
}

func condition(s *corev1.Service) *struct{ Status, Reason, Message string } {
	for _, c := range s.Status.Conditions {
		if c.Type == assign.ConditionType {
			return &struct{ Status, Reason, Message string }{string(c.Status), c.Reason, c.Message}
		}
	}
	return nil
}

func printTable(svcs []corev1.Service) {
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tEXTERNAL-IP\tPOOL\tASSIGNED\tWHY")
	for _, s := range svcs {
		ips := cluster.IngressIPs(&s)
		ext := strings.Join(ips, ",")
		if ext == "" {
			ext = "<pending>"
		}
		cond := condition(&s)
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Name, ext, s.Annotations[assign.AnnotationAllocatedFromPool], cond.Status, cond.Message)
	}
	w.Flush()
}
