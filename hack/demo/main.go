// Command demo runs the local demonstration behind `make demo`: a cluster
// whose nodes are network namespaces (test/lab: real API server,
// controller, a speaker and kube-proxy per node, backend pods), the example
// pools and Services of config/samples, and a client on the same LAN that
// reaches the backends through the LoadBalancer IPs.
//
//	go run ./hack/demo          # run, print, tear down (Ctrl-C when on a terminal)
//	go run ./hack/demo -down    # remove what a killed demo left behind
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
	"github.com/ferrolb/ferrolb/test/lab"
)

func main() {
	down := flag.Bool("down", false, "remove namespaces left by a demo that was killed, then exit")
	flag.Parse()
	if *down {
		gone, err := lab.CleanupStale()
		fmt.Printf("removed %d stale lab namespaces\n", len(gone))
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// backends says which nodes run each example Service's pods.
var backends = map[string][]string{
	"web":      {"node1", "node2", "node3"},
	"web-dual": {"node1", "node2", "node3"},
	"dns-tcp":  {"node2"},
	"dns-udp":  {"node2"},
	"reserved": {"node3"},
	// "impossible" never gets an address, so it needs no pods.
}

func run() error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		return err
	}
	step("bringing up the lab: API server, controller, 3 nodes with kube-proxy and a backend pod, a client")
	l, err := lab.Start(ctx, lab.Options{Nodes: 3, Progress: os.Stdout})
	if err != nil {
		return err
	}
	defer func() {
		step("tearing down (namespaces, processes, API server)")
		if err := l.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: teardown:", err)
		}
	}()
	step("starting a speaker on every node")
	if err := l.StartSpeakers(ctx); err != nil {
		return err
	}
	for _, f := range []string{"pools.yaml", "services.yaml"} {
		step("applying config/samples/" + f)
		if err := l.Cluster.ApplyFile(ctx, filepath.Join(root, "config", "samples", f)); err != nil {
			return err
		}
	}
	if err := l.Cluster.ApplyYAML(ctx, []byte(l2ad)); err != nil {
		return err
	}
	for name, nodes := range backends {
		var svc corev1.Service
		if err := l.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, &svc); err != nil {
			return err
		}
		if err := l.Backends(ctx, &svc, nodes...); err != nil {
			return err
		}
	}
	step("waiting for every Service to be decided and announced")
	svcs, err := waitDecided(ctx, l, 60*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, l.Controller.Tail(20))
		return err
	}
	printServices(ctx, l, svcs)

	if term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Printf("\nThe lab keeps running. Kubeconfig: %s\n", l.Cluster.Kubeconfig)
		fmt.Printf("Client namespace: %s (try: ip netns exec %s curl http://<EXTERNAL-IP>/)\n", l.Client.NS, l.Client.NS)
		fmt.Println("Press Ctrl-C to tear everything down (after a hard kill: go run ./hack/demo -down).")
		<-ctx.Done()
	}
	return nil
}

const l2ad = `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: everything, namespace: metallb-system}
`

func step(msg string) { fmt.Println("==>", msg) }

func condition(s *corev1.Service) (status, msg string, ok bool) {
	for _, c := range s.Status.Conditions {
		if c.Type == assign.ConditionType {
			return string(c.Status), c.Message, true
		}
	}
	return "", "", false
}

// waitDecided polls until every LoadBalancer Service carries the
// controller's condition and every Service with an address has a
// ServiceL2Status (an announcing node).
func waitDecided(ctx context.Context, l *lab.Lab, timeout time.Duration) ([]corev1.Service, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var list corev1.ServiceList
		var l2 v1beta1.ServiceL2StatusList
		err1 := l.Cluster.Client.List(ctx, &list, client.InNamespace("default"))
		err2 := l.Cluster.Client.List(ctx, &l2, client.InNamespace(cluster.Namespace))
		if err1 == nil && err2 == nil {
			announced := map[string]bool{}
			for _, o := range l2.Items {
				announced[o.Status.ServiceName] = true
			}
			var lbs []corev1.Service
			done := true
			for _, s := range list.Items {
				if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
					continue
				}
				lbs = append(lbs, s)
				_, _, decided := condition(&s)
				if !decided || (len(s.Status.LoadBalancer.Ingress) > 0 && !announced[s.Name]) {
					done = false
				}
			}
			if done && len(lbs) > 0 {
				return lbs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("services not decided and announced in %s", timeout)
}

func printServices(ctx context.Context, l *lab.Lab, svcs []corev1.Service) {
	macs := map[string]string{}
	for _, n := range l.Nodes {
		if mac, err := l.NodeMAC(n.Name); err == nil {
			macs[strings.ToLower(mac)] = n.Name
		}
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tEXTERNAL-IP\tPOOL\tASSIGNED\tANNOUNCED BY\tCLIENT: curl http://IP:PORT/ (answering pod's node)")
	for _, s := range svcs {
		ips := cluster.IngressIPs(&s)
		status, msg, _ := condition(&s)
		if len(ips) == 0 {
			fmt.Fprintf(w, "%s\t<pending>\t\t%s\t\t(%s)\n", s.Name, status, msg)
			continue
		}
		for _, ip := range ips {
			who := "-"
			if strings.Contains(ip, ":") {
				if m, err := l.NDisc(ctx, ip); err == nil && len(m) > 0 {
					who = nodeOf(macs, m...)
				}
			} else if mac, n, err := l.ARPing(ctx, ip); err == nil && n > 0 {
				who = nodeOf(macs, mac)
			}
			p := s.Spec.Ports[0]
			answer := "(UDP only)"
			if p.Protocol == corev1.ProtocolTCP {
				body, err := l.CurlFrom(ctx, "client", ip, int(p.Port))
				answer = strings.TrimSpace(body)
				if err != nil {
					answer = "error: " + err.Error()
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, ip, s.Annotations[assign.AnnotationAllocatedFromPool], status, who, answer)
		}
	}
	w.Flush()
}

func nodeOf(macs map[string]string, found ...string) string {
	var names []string
	for _, m := range found {
		if n, ok := macs[strings.ToLower(m)]; ok {
			names = append(names, n)
		} else {
			names = append(names, m)
		}
	}
	return strings.Join(names, ",")
}
