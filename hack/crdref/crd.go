package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// crd is the part of an apiextensions.k8s.io/v1 CustomResourceDefinition
// the reference shows. It is declared here rather than taken from
// k8s.io/apiextensions-apiserver to keep this tool's dependencies to
// sigs.k8s.io/yaml.
type crd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind       string   `json:"kind"`
			ListKind   string   `json:"listKind"`
			Plural     string   `json:"plural"`
			Singular   string   `json:"singular"`
			ShortNames []string `json:"shortNames"`
			Categories []string `json:"categories"`
		} `json:"names"`
		Scope      string    `json:"scope"`
		Versions   []version `json:"versions"`
		Conversion *struct {
			Strategy string `json:"strategy"`
		} `json:"conversion"`
	} `json:"spec"`

	// file is the manifest the CRD was read from.
	file string
}

type version struct {
	Name               string  `json:"name"`
	Served             bool    `json:"served"`
	Storage            bool    `json:"storage"`
	Deprecated         bool    `json:"deprecated"`
	DeprecationWarning *string `json:"deprecationWarning"`
	Schema             *struct {
		OpenAPIV3Schema *schema `json:"openAPIV3Schema"`
	} `json:"schema"`
	Subresources *struct {
		Status *json.RawMessage `json:"status"`
		Scale  *json.RawMessage `json:"scale"`
	} `json:"subresources"`
	AdditionalPrinterColumns []column `json:"additionalPrinterColumns"`
}

type column struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Priority    int32  `json:"priority"`
	JSONPath    string `json:"jsonPath"`
}

// schema is a JSONSchemaProps subset: everything a structural schema of a
// CRD may carry that matters to a reader.
type schema struct {
	Type             string             `json:"type"`
	Format           string             `json:"format"`
	Description      string             `json:"description"`
	Default          *json.RawMessage   `json:"default"`
	Enum             []json.RawMessage  `json:"enum"`
	Minimum          *float64           `json:"minimum"`
	Maximum          *float64           `json:"maximum"`
	ExclusiveMinimum bool               `json:"exclusiveMinimum"`
	ExclusiveMaximum bool               `json:"exclusiveMaximum"`
	MultipleOf       *float64           `json:"multipleOf"`
	MinLength        *int64             `json:"minLength"`
	MaxLength        *int64             `json:"maxLength"`
	Pattern          string             `json:"pattern"`
	MinItems         *int64             `json:"minItems"`
	MaxItems         *int64             `json:"maxItems"`
	UniqueItems      bool               `json:"uniqueItems"`
	MinProperties    *int64             `json:"minProperties"`
	MaxProperties    *int64             `json:"maxProperties"`
	Nullable         bool               `json:"nullable"`
	Required         []string           `json:"required"`
	Properties       map[string]*schema `json:"properties"`
	Items            *schema            `json:"items"`
	// AdditionalProperties is a schema or a boolean.
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	AllOf                []json.RawMessage `json:"allOf"`
	AnyOf                []json.RawMessage `json:"anyOf"`
	OneOf                []json.RawMessage `json:"oneOf"`
	Not                  json.RawMessage   `json:"not"`

	ListType          *string      `json:"x-kubernetes-list-type"`
	ListMapKeys       []string     `json:"x-kubernetes-list-map-keys"`
	MapType           *string      `json:"x-kubernetes-map-type"`
	IntOrString       bool         `json:"x-kubernetes-int-or-string"`
	PreserveUnknown   *bool        `json:"x-kubernetes-preserve-unknown-fields"`
	EmbeddedResource  bool         `json:"x-kubernetes-embedded-resource"`
	Validations       []validation `json:"x-kubernetes-validations"`
	additionalSchema  *schema
	additionalAllowed bool
}

type validation struct {
	Rule              string `json:"rule"`
	Message           string `json:"message"`
	MessageExpression string `json:"messageExpression"`
	Reason            string `json:"reason"`
	FieldPath         string `json:"fieldPath"`
	OptionalOldSelf   *bool  `json:"optionalOldSelf"`
}

// resolve decodes additionalProperties (a schema or a boolean) throughout
// the tree.
func (s *schema) resolve() error {
	if s == nil {
		return nil
	}
	if raw := strings.TrimSpace(string(s.AdditionalProperties)); raw != "" && raw != "null" {
		switch raw {
		case "true":
			s.additionalAllowed = true
		case "false":
		default:
			s.additionalSchema = &schema{}
			if err := json.Unmarshal(s.AdditionalProperties, s.additionalSchema); err != nil {
				return fmt.Errorf("additionalProperties: %w", err)
			}
			s.additionalAllowed = true
		}
	}
	for name, p := range s.Properties {
		if err := p.resolve(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := s.Items.resolve(); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	return s.additionalSchema.resolve()
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// parseCRDs returns the CustomResourceDefinitions of one YAML stream;
// other documents are skipped.
func parseCRDs(data []byte, file string) ([]*crd, error) {
	var out []*crd
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		c := &crd{file: file}
		if err := yaml.Unmarshal([]byte(doc), c); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if c.Kind != "CustomResourceDefinition" || !strings.HasPrefix(c.APIVersion, "apiextensions.k8s.io/") {
			continue
		}
		if c.Spec.Names.Kind == "" || len(c.Spec.Versions) == 0 {
			return nil, fmt.Errorf("%s: CRD %q has no kind or no versions", file, c.Metadata.Name)
		}
		for _, v := range c.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			if err := v.Schema.OpenAPIV3Schema.resolve(); err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w", file, c.Spec.Names.Kind, v.Name, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// loadCRDs reads every CRD of the *.yaml and *.yml files in dir, sorted by
// kind. Two CRDs of one kind and group are an error.
func loadCRDs(dir string) ([]*crd, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []*crd
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		crds, err := parseCRDs(data, path)
		if err != nil {
			return nil, err
		}
		all = append(all, crds...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition in %s", dir)
	}
	slices.SortFunc(all, func(a, b *crd) int {
		return strings.Compare(a.Spec.Names.Kind+"."+a.Spec.Group, b.Spec.Names.Kind+"."+b.Spec.Group)
	})
	for i := 1; i < len(all); i++ {
		if all[i].Spec.Names.Kind == all[i-1].Spec.Names.Kind {
			if all[i].Spec.Group == all[i-1].Spec.Group {
				return nil, fmt.Errorf("kind %s.%s is defined twice (%s, %s)", all[i].Spec.Names.Kind, all[i].Spec.Group, all[i-1].file, all[i].file)
			}
			return nil, fmt.Errorf("kind %s exists in groups %s and %s: one page per kind cannot hold both", all[i].Spec.Names.Kind, all[i-1].Spec.Group, all[i].Spec.Group)
		}
	}
	return all, nil
}

// orderedVersions returns the served versions, the storage version first,
// the others in the CRD's order.
func (c *crd) orderedVersions() []version {
	var out []version
	for _, v := range c.Spec.Versions {
		if v.Served && v.Storage {
			out = append(out, v)
		}
	}
	for _, v := range c.Spec.Versions {
		if v.Served && !v.Storage {
			out = append(out, v)
		}
	}
	return out
}

// pageName is the file name of the kind's reference page.
func (c *crd) pageName() string {
	return strings.ToLower(c.Spec.Names.Kind) + ".md"
}
