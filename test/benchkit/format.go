package benchkit

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Progress prints one progress line, printf-style.
type Progress func(format string, args ...any)

// NewProgress returns a Progress that writes "<time> <name>: <message>"
// lines to w, the time in layout (e.g. "15:04:05.000").
func NewProgress(w io.Writer, name, layout string) Progress {
	return func(format string, args ...any) {
		fmt.Fprintf(w, "%s %s: %s\n", time.Now().Format(layout), name, fmt.Sprintf(format, args...))
	}
}

// Thousands writes n with a thousands separator: 3000 -> "3,000".
func Thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// MiB writes a size in bytes in mebibytes: "51.2 MiB".
func MiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Sleep waits d or until ctx ends, whichever comes first; it returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
