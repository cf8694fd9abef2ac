package membership

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMemberlistLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newMemberlistLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level:       slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
	})))
	l.Print("[DEBUG] memberlist: Stream connection from=127.0.0.1:1")
	l.Print("[INFO] memberlist: Marking b as failed")
	l.Print("[WARN] memberlist: Refuting a suspect message")
	l.Print("[ERR] memberlist: Failed to send ping")
	l.Print("no level at all")
	want := `level=DEBUG msg=memberlist detail="Stream connection from=127.0.0.1:1"
level=INFO msg=memberlist detail="Marking b as failed"
level=WARN msg=memberlist detail="Refuting a suspect message"
level=ERROR msg=memberlist detail="Failed to send ping"
level=INFO msg=memberlist detail="no level at all"
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
