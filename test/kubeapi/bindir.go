package kubeapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// BinDirEnv names the environment variable that points at a directory holding
// etcd and kube-apiserver. When it is unset, BinDir builds them.
const BinDirEnv = "FERROLB_K8S_BIN_DIR"

// buildTimeout bounds hack/build-k8s.sh; a cold build takes a few minutes.
const buildTimeout = 30 * time.Minute

// Binaries the server needs in BinDir.
var binaries = []string{"etcd", "kube-apiserver"}

var binDir struct {
	once sync.Once
	dir  string
	err  error
}

// BinDir returns the directory holding etcd and kube-apiserver: the value of
// FERROLB_K8S_BIN_DIR if set, else the last line printed by
// <repo root>/hack/build-k8s.sh, which builds the binaries on first use. The
// answer is computed once per process.
func BinDir() (string, error) {
	binDir.once.Do(func() { binDir.dir, binDir.err = findBinDir() })
	return binDir.dir, binDir.err
}

func findBinDir() (string, error) {
	dir := os.Getenv(BinDirEnv)
	if dir == "" {
		var err error
		if dir, err = buildBinaries(); err != nil {
			return "", err
		}
	}
	var missing []string
	for _, b := range binaries {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("kubeapi: %s missing from %s (set %s or run hack/build-k8s.sh)",
			strings.Join(missing, ", "), dir, BinDirEnv)
	}
	return dir, nil
}

func buildBinaries() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "hack", "build-k8s.sh")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Dir = root
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr // build progress; silent when the cache is warm
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kubeapi: %s failed (set %s to skip the build): %w", script, BinDirEnv, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", fmt.Errorf("kubeapi: %s printed no directory", script)
	}
	return dir, nil
}

// RepoRoot returns the nearest directory at or above the working directory
// that holds a go.mod file.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kubeapi: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kubeapi: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// CRDDir returns <repo root>/config/crd/bases, where the generated CRDs live.
func CRDDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "config", "crd", "bases"), nil
}
