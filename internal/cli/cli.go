package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/cli/convert"
	"github.com/ferrolb/ferrolb/internal/cli/inspect"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// apiTimeout bounds all API calls of one command.
const apiTimeout = time.Minute

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Usage is the help text.
const Usage = `kubectl metallb: inspect a MetalLB installation and migrate its configuration.

Usage:
  kubectl metallb convert [-f FILE|-] [--only-data] [-n NAMESPACE]
      Convert a pre-v0.13 MetalLB ConfigMap (or, with --only-data, its bare
      "config" YAML) read from FILE or stdin into metallb.io resources,
      printed as YAML. -n sets their namespace (default: the ConfigMap's,
      else metallb-system).
  kubectl metallb explain service [NAMESPACE/]NAME [-o text|yaml|json] [--lb-class CLASS]
      Explain a Service: what it requests, the IPs it got and their pools,
      why it is pending, which nodes announce it and the BGP sessions used.
  kubectl metallb status [-o text|yaml|json]
      Show pools and their usage, BGP peers and sessions per node, and the
      configuration state of the controller and of each speaker.

Flags:
  --kubeconfig PATH    kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --context NAME       kubeconfig context to use
  -n, --namespace NS   MetalLB's namespace (default metallb-system)
  -o, --output FORMAT  text (default), yaml or json
  --lb-class CLASS     the loadBalancerClass MetalLB runs with (its --lb-class)
`

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Main runs the plugin with args (without the program name) and returns
// the exit code.
func Main(args []string, s Streams) int {
	err := run(args, s)
	if err == nil {
		return ExitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(s.Err, "error: %s\n\nRun 'kubectl metallb --help' for usage.\n", ue.msg)
		return ExitUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.Out, Usage)
		return ExitOK
	}
	fmt.Fprintf(s.Err, "error: %v\n", err)
	return ExitFail
}

func run(args []string, s Streams) error {
	if len(args) == 0 {
		return usagef("missing command (convert, explain or status)")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		return flag.ErrHelp
	case "convert":
		return runConvert(rest, s)
	case "explain":
		return runExplain(rest, s)
	case "status":
		return runStatus(rest, s)
	}
	return usagef("unknown command %q (want convert, explain or status)", cmd)
}

// flags are the options every command understands.
type flags struct {
	fs         *flag.FlagSet
	kubeconfig string
	context    string
	// namespace is -n; empty leaves the default to the command (convert:
	// the ConfigMap's, else metallb-system; inspect: metallb-system).
	namespace string
	output    string
}

func newFlags(name string, withOutput bool) *flags {
	f := &flags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard) // errors are reported by Main
	f.fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file")
	f.fs.StringVar(&f.context, "context", "", "kubeconfig context")
	f.fs.StringVar(&f.namespace, "namespace", "", "MetalLB's namespace")
	f.fs.StringVar(&f.namespace, "n", "", "MetalLB's namespace")
	if withOutput {
		f.fs.StringVar(&f.output, "output", inspect.FormatText, "output format")
		f.fs.StringVar(&f.output, "o", inspect.FormatText, "output format")
	}
	return f
}

// parse parses flags and positional arguments in any order ("explain
// service a/b -o yaml" as well as "explain -o yaml service a/b").
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", f.fs.Name(), err)
		}
		args = f.fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if f.output != "" && !slices.Contains(inspect.Formats, f.output) {
		return nil, usagef("unknown output format %q (want %s)", f.output, strings.Join(inspect.Formats, ", "))
	}
	return pos, nil
}

// clientConfig loads the kubeconfig like kubectl: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config (else in-cluster), with --context.
func (f *flags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
}

// newClient makes a client of the cluster cc points to.
func newClient(cc clientcmd.ClientConfig) (client.Client, error) {
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: wiring.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return c, nil
}

func runConvert(args []string, s Streams) error {
	f := newFlags("convert", false)
	var file string
	var onlyData bool
	f.fs.StringVar(&file, "f", "-", "input file, - for stdin")
	f.fs.StringVar(&file, "filename", "-", "input file, - for stdin")
	f.fs.BoolVar(&onlyData, "only-data", false, "the input is the bare configuration, not a ConfigMap")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("convert takes no arguments (got %q); give the input with -f", pos)
	}
	var in []byte
	if file == "-" {
		in, err = io.ReadAll(s.In)
	} else {
		in, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	res, err := convert.Convert(in, convert.Options{OnlyData: onlyData, Namespace: f.namespace})
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintf(s.Err, "note: %s\n", n)
	}
	return res.WriteYAML(s.Out)
}

func runExplain(args []string, s Streams) error {
	f := newFlags("explain", true)
	var lbClass string
	f.fs.StringVar(&lbClass, "lb-class", "", "MetalLB's --lb-class")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: kubectl metallb explain service [NAMESPACE/]NAME")
	}
	switch pos[0] {
	case "service", "services", "svc":
	default:
		return usagef("cannot explain %q: only services can be explained", pos[0])
	}
	cc := f.clientConfig()
	ns, name, found := strings.Cut(pos[1], "/")
	if !found {
		name = ns
		if ns, _, err = cc.Namespace(); err != nil {
			return fmt.Errorf("loading the kubeconfig: %w", err)
		}
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return usagef("invalid Service %q: want NAMESPACE/NAME or NAME", pos[1])
	}
	c, err := newClient(cc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	r, err := inspect.Explain(ctx, c, ns, name, inspect.Options{Namespace: f.namespace, LBClass: lbClass})
	if err != nil {
		return err
	}
	return inspect.Write(s.Out, f.output, r)
}

func runStatus(args []string, s Streams) error {
	f := newFlags("status", true)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("status takes no arguments (got %q)", pos)
	}
	c, err := newClient(f.clientConfig())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	r, err := inspect.Status(ctx, c, inspect.Options{Namespace: f.namespace})
	if err != nil {
		return err
	}
	return inspect.Write(s.Out, f.output, r)
}
