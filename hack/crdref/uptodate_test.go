package main

import (
	"context"
	"testing"
	"time"
)

// TestCommittedReferenceIsUpToDate regenerates docs/reference in memory
// (CRD pages, index and, by building the binaries, flags.md) and fails if
// the committed files differ.
func TestCommittedReferenceIsUpToDate(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	o := defaultOptions(root)
	files, err := generate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("generated only %d pages", len(files))
	}
	if problems := compare(o, files); len(problems) > 0 {
		t.Fatal(staleError(problems))
	}
}
