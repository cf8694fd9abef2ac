package inspect

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// Output formats of Write.
const (
	FormatText = "text"
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Formats lists the accepted output formats.
var Formats = []string{FormatText, FormatYAML, FormatJSON}

// Report is a value Write can render.
type Report interface {
	WriteText(w io.Writer) error
}

// Write renders r in format (text, yaml or json).
func Write(w io.Writer, format string, r Report) error {
	switch format {
	case FormatText, "":
		return r.WriteText(w)
	case FormatJSON:
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case FormatYAML:
		b, err := yaml.Marshal(r)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q (want text, yaml or json)", format)
}
