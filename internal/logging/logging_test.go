package logging

import (
	"bytes"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		level           string
		wantDebug, want bool // debug line shown, error line shown
	}{
		{"all", true, true},
		{"debug", true, true},
		{"info", false, true},
		{"warn", false, true},
		{"error", false, true},
		{"none", false, false},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		log, err := New(&buf, tc.level)
		if err != nil {
			t.Fatalf("%s: %v", tc.level, err)
		}
		log.Debug("dbg")
		log.Error("err")
		if got := strings.Contains(buf.String(), "dbg"); got != tc.wantDebug {
			t.Errorf("%s: debug shown = %v, want %v", tc.level, got, tc.wantDebug)
		}
		if got := strings.Contains(buf.String(), "err"); got != tc.want {
			t.Errorf("%s: error shown = %v, want %v", tc.level, got, tc.want)
		}
	}
	if _, err := New(&bytes.Buffer{}, "loud"); err == nil {
		t.Error("invalid level accepted")
	}
}
