package announcer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"sigs.k8s.io/yaml"
)

// ReadExcludeFile reads MetalLB's interface exclusion file (ConfigMap
// metallb-excludel2, key excludel2.yaml): a YAML object whose
// announcedInterfacesToExclude lists regular expressions. A missing file
// returns nil, which means the default list.
func ReadExcludeFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		AnnouncedInterfacesToExclude []string `json:"announcedInterfacesToExclude"`
	}
	if err := yaml.UnmarshalStrict(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.AnnouncedInterfacesToExclude, nil
}
