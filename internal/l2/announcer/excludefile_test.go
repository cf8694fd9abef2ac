package announcer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadExcludeFile(t *testing.T) {
	dir := t.TempDir()
	if got, err := ReadExcludeFile(filepath.Join(dir, "missing.yaml")); err != nil || got != nil {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("announcedInterfacesToExclude:\n  - ^docker.*\n  - ^eth9$\n"), 0o644)
	got, err := ReadExcludeFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"^docker.*", "^eth9$"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("interfacesToExclude: [x]\n"), 0o644)
	if _, err := ReadExcludeFile(bad); err == nil {
		t.Error("unknown field accepted")
	}
}
