package gobgp

import (
	"context"
	"fmt"
	"log/slog"
)

// gobgpLogs is the slog handler given to a peer's GoBGP server. It forwards
// records at or above level to the backend's logger (tagged with the peer)
// and, at every level, turns the few records that explain why a session is
// not up into the session's last error (GoBGP exposes no other way to learn
// why a connection attempt failed).
type gobgpLogs struct {
	next  slog.Handler
	level slog.Leveler
	note  func(string)
	attrs []slog.Attr
}

func (h *gobgpLogs) Enabled(context.Context, slog.Level) bool { return true }

func (h *gobgpLogs) Handle(ctx context.Context, r slog.Record) error {
	if msg := h.explain(r); msg != "" {
		h.note(msg)
	}
	// StopBgp followed by Stop (needed to end GoBGP's BFD goroutine)
	// always reports that the server is already stopped.
	if r.Message == "failed to stop BGP server" {
		return nil
	}
	if r.Level < h.level.Level() || !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *gobgpLogs) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *gobgpLogs) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// explain returns the last-error text of a record, "" for records that do
// not explain a failure.
func (h *gobgpLogs) explain(r slog.Record) string {
	attr := func(key string) string {
		v := ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.String()
				return false
			}
			return true
		})
		return v
	}
	switch r.Message {
	case "failed to connect":
		return "connect: " + attr("Error")
	case "received notification":
		return fmt.Sprintf("received NOTIFICATION code %s subcode %s", attr("Code"), attr("Subcode"))
	case "sent notification":
		return fmt.Sprintf("sent NOTIFICATION code %s subcode %s", attr("Code"), attr("Subcode"))
	case "outgoing connection IO error":
		return "connection closed by the peer (" + attr("reason") + ")"
	case "outgoing connection closing due to hold timer expired in OPEN SENT state":
		return "no OPEN received from the peer"
	}
	return ""
}
