package benchkit

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
)

// SaveAPIServerBurst records the API server's CPU profile for d, starting
// after, and its goroutine dump (text, every stack) halfway through: where
// requests wait while a burst goes on. The files go to dir as
// <prefix>-cpu.pb.gz and <prefix>-goroutines.txt. Failures are only
// reported.
func SaveAPIServerBurst(ctx context.Context, cs kubernetes.Interface, dir, prefix string, after, d time.Duration, progress Progress) {
	if Sleep(ctx, after) != nil {
		return
	}
	secs := max(int(d.Seconds()), 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if Sleep(ctx, time.Duration(secs)*time.Second/2) != nil {
			return
		}
		saveAPIServerDebug(ctx, cs, dir, "goroutine", map[string]string{"debug": "2"}, prefix+"-goroutines.txt", progress)
	}()
	saveAPIServerDebug(ctx, cs, dir, "profile", map[string]string{"seconds": strconv.Itoa(secs)}, prefix+"-cpu.pb.gz", progress)
	<-done
}

func saveAPIServerDebug(ctx context.Context, cs kubernetes.Interface, dir, profile string, params map[string]string, file string, progress Progress) {
	req := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/" + profile).Timeout(2 * time.Minute)
	for k, v := range params {
		req = req.Param(k, v)
	}
	b, err := req.DoRaw(ctx)
	if err != nil {
		progress("  API server %s: %v", profile, err)
		return
	}
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		progress("  API server %s: %v", profile, err)
		return
	}
	progress("  saved %s", path)
}
