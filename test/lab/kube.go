package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// registerNode creates node's Node object: hostname/os/arch labels, pod
// CIDRs, both LAN addresses as InternalIP and a Ready condition. Nothing
// updates it later: a dead node stays Ready, as without a
// controller-manager.
func (l *Lab) registerNode(ctx context.Context, n *Node) error {
	obj := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{
			corev1.LabelHostname:   n.Name,
			corev1.LabelOSStable:   "linux",
			corev1.LabelArchStable: runtime.GOARCH,
		}},
		Spec: corev1.NodeSpec{
			PodCIDR:  PodPrefixV4(n.Index).String(),
			PodCIDRs: []string{PodPrefixV4(n.Index).String(), PodPrefixV6(n.Index).String()},
		},
	}
	c := l.Cluster.Client
	if err := c.Create(ctx, obj); err != nil {
		return fmt.Errorf("lab: creating node %s: %w", n.Name, err)
	}
	now := metav1.Now()
	obj.Status = corev1.NodeStatus{
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.IPv4.String()},
			{Type: corev1.NodeInternalIP, Address: n.IPv6.String()},
			{Type: corev1.NodeHostName, Address: n.Name},
		},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "LabNode",
			Message: "set by the lab", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
	}
	if err := c.Status().Update(ctx, obj); err != nil {
		return fmt.Errorf("lab: status of node %s: %w", n.Name, err)
	}
	return nil
}

// writeKubeconfig writes node's kubeconfig: the admin user's token, the API
// server's CA, and the server at https://127.0.0.1:6443, the API bridge of
// the node's namespace. The serving certificate names 127.0.0.1, so TLS is
// verified as usual.
func (l *Lab) writeKubeconfig(n *Node) error {
	const name = "lab"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   "https://127.0.0.1:" + strconv.Itoa(APIPort),
		CertificateAuthorityData: l.Cluster.API.CAData(),
	}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: l.Cluster.Config.BearerToken}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	n.Kubeconfig = filepath.Join(l.Dir, n.Name, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, n.Kubeconfig); err != nil {
		return fmt.Errorf("lab: kubeconfig of %s: %w", n.Name, err)
	}
	return nil
}

// kubeProxyHealthz is kube-proxy's default health endpoint, per namespace.
const kubeProxyHealthz = "127.0.0.1:10256"

// startKubeProxy runs kube-proxy in nftables mode in node's namespace.
// The conntrack flags keep it from writing the root namespace's conntrack
// sysctls.
func (l *Lab) startKubeProxy(n *Node, bin string) error {
	p, err := l.StartProcess(n.Host, "kube-proxy", nil, bin,
		"--kubeconfig", n.Kubeconfig,
		"--hostname-override", n.Name,
		"--proxy-mode", "nftables",
		"--cluster-cidr", PodsV4.String()+","+PodsV6.String(),
		"--conntrack-max-per-core=0",
		"--conntrack-tcp-timeout-established=0",
		"--conntrack-tcp-timeout-close-wait=0",
		"--v=2",
	)
	if err != nil {
		return err
	}
	n.KubeProxy = p
	return nil
}

// waitKubeProxies waits until every node's kube-proxy reports healthy
// (it has synced its rules) on its /healthz.
func (l *Lab) waitKubeProxies(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, n := range l.Nodes {
		last := ""
		for {
			if n.KubeProxy.Exited() {
				return fmt.Errorf("lab: kube-proxy on %s exited; its log ends with:\n%s", n.Name, n.KubeProxy.Tail(20))
			}
			code, body, err := l.get(ctx, n.Name, "http://"+kubeProxyHealthz+"/healthz")
			if err == nil && code == http.StatusOK {
				break
			}
			last = fmt.Sprint(code, " ", body, err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("lab: kube-proxy on %s not healthy (last answer: %s); its log ends with:\n%s",
					n.Name, strings.TrimSpace(last), n.KubeProxy.Tail(20))
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// get does one bounded HTTP GET from inside a host's namespace and returns
// the status code and (up to 64 KiB of) the body.
func (l *Lab) get(ctx context.Context, from, url string) (int, string, error) {
	h, err := l.Host(from)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return DialIn(ctx, h.NS, network, addr)
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("lab: GET %s from %s: %w", url, from, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b), err
}
