package logging

import (
	"fmt"
	"io"
	"log/slog"
	"math"
)

// Levels accepted by --log-level, as in MetalLB.
var Levels = []string{"all", "debug", "info", "warn", "error", "none"}

// New returns a logfmt-style text logger writing to w at the given level.
func New(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	switch level {
	case "all":
		l = slog.Level(math.MinInt32)
	case "debug":
		l = slog.LevelDebug
	case "info", "":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	case "none":
		l = slog.Level(math.MaxInt32)
	default:
		return nil, fmt.Errorf("invalid log level %q, want one of %v", level, Levels)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
