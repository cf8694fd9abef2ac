package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// Main runs a benchmark program's measurements, after its flags are
// parsed: with client-go's own logging off (errors are returned), until
// measure returns or SIGINT or SIGTERM ends its context. Then it calls
// cleanup (if set), prints the rows measured as a table on stdout and, on
// error, prints "<name>: <error>" on stderr and exits with status 1.
//
// Started by StartBusyLoops, it only runs the busy loops.
func Main(name string, measure func(context.Context) ([]Row, error), cleanup func()) {
	if runBusyLoops() {
		return
	}
	klog.SetLogger(logr.Discard()) // client-go's chatter when a watch ends
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rows, err := measure(ctx)
	cancel()
	if cleanup != nil {
		cleanup()
	}
	PrintTable(os.Stdout, rows)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
