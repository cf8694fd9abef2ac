package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// field is one node of a schema tree, named by its path from the object
// root: "spec.addresses", "spec.nodeSelectors[].matchLabels".
type field struct {
	path     string
	s        *schema
	required bool
}

// rootSkipped are the standard object fields every kind has; the
// reference leaves them out.
var rootSkipped = map[string]bool{"apiVersion": true, "kind": true, "metadata": true}

// fields lists every field path below the root schema, depth first, with
// properties in name order.
func fields(root *schema) []field {
	var out []field
	var visit func(path string, s *schema, required bool)
	var children func(path string, s *schema)
	visit = func(path string, s *schema, required bool) {
		out = append(out, field{path: path, s: s, required: required})
		children(path, s)
	}
	children = func(path string, s *schema) {
		if s == nil {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			if path == "" && rootSkipped[name] {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			visit(p, s.Properties[name], slices.Contains(s.Required, name))
		}
		children(path+"[]", s.Items)
		children(path+".*", s.additionalSchema)
	}
	children("", root)
	return out
}

// typeName renders a schema's type the way a Go or YAML reader thinks of
// it: "[]string", "map[string]string", "integer (int32)".
func typeName(s *schema) string {
	switch {
	case s == nil:
		return "any"
	case s.IntOrString:
		return "int or string"
	case s.Type == "array":
		return "[]" + typeName(s.Items)
	case s.Type == "object" && len(s.Properties) == 0 && s.additionalSchema != nil:
		return "map[string]" + typeName(s.additionalSchema)
	case s.Type == "object" && len(s.Properties) == 0 && (s.additionalAllowed || s.PreserveUnknown != nil && *s.PreserveUnknown):
		return "object (free-form)"
	case s.Type == "":
		return "any"
	case s.Format != "":
		return s.Type + " (" + s.Format + ")"
	}
	return s.Type
}

// jsonValue renders a default or enum value: strings as they are, other
// values as compact JSON.
func jsonValue(raw json.RawMessage) string {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// bounds renders a pair of optional limits: "1 to 100", "at least 1",
// "at most 15".
func bounds(lo, hi *int64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("%d to %d", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("at least %d", *lo)
	case hi != nil:
		return fmt.Sprintf("at most %d", *hi)
	}
	return ""
}

// constraints lists what the schema of one node enforces besides its type,
// one Markdown line per rule.
func constraints(s *schema) []string {
	var out []string
	if s.Default != nil {
		out = append(out, "Default: "+code(jsonValue(*s.Default)))
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = code(jsonValue(e))
		}
		out = append(out, "Allowed values: "+strings.Join(vals, ", "))
	}
	if s.Minimum != nil || s.Maximum != nil {
		var parts []string
		if s.Minimum != nil {
			op := "≥"
			if s.ExclusiveMinimum {
				op = ">"
			}
			parts = append(parts, op+" "+num(*s.Minimum))
		}
		if s.Maximum != nil {
			op := "≤"
			if s.ExclusiveMaximum {
				op = "<"
			}
			parts = append(parts, op+" "+num(*s.Maximum))
		}
		out = append(out, "Value: "+strings.Join(parts, " and "))
	}
	if s.MultipleOf != nil {
		out = append(out, "Multiple of "+num(*s.MultipleOf))
	}
	if b := bounds(s.MinLength, s.MaxLength); b != "" {
		out = append(out, "String length: "+b)
	}
	if s.Pattern != "" {
		out = append(out, "Pattern: "+code(s.Pattern))
	}
	if b := bounds(s.MinItems, s.MaxItems); b != "" {
		out = append(out, "Items: "+b)
	}
	if s.UniqueItems {
		out = append(out, "Items must be unique")
	}
	if b := bounds(s.MinProperties, s.MaxProperties); b != "" {
		out = append(out, "Entries: "+b)
	}
	if s.Nullable {
		out = append(out, "Nullable")
	}
	if s.ListType != nil {
		l := "List type: " + code(*s.ListType)
		if len(s.ListMapKeys) > 0 {
			l += " (keys: " + codes(s.ListMapKeys) + ")"
		}
		out = append(out, l)
	}
	if s.MapType != nil {
		out = append(out, "Map type: "+code(*s.MapType))
	}
	if s.PreserveUnknown != nil && *s.PreserveUnknown {
		out = append(out, "Unknown fields are preserved")
	}
	if s.EmbeddedResource {
		out = append(out, "Embedded Kubernetes object")
	}
	var other []string
	for _, kw := range []struct {
		name    string
		present bool
	}{
		{"allOf", len(s.AllOf) > 0},
		{"anyOf", len(s.AnyOf) > 0},
		{"oneOf", len(s.OneOf) > 0},
		{"not", len(s.Not) > 0 && string(s.Not) != "null"},
	} {
		if kw.present {
			other = append(other, code(kw.name))
		}
	}
	if len(other) > 0 {
		out = append(out, "Further schema constraints ("+strings.Join(other, ", ")+"): see the CRD")
	}
	for _, v := range s.Validations {
		out = append(out, "Rule: "+validationText(v))
	}
	return out
}

// validationText renders one CEL rule: its message, then the expression.
func validationText(v validation) string {
	var b strings.Builder
	switch {
	case v.Message != "":
		b.WriteString(prose(v.Message) + " — ")
	case v.MessageExpression != "":
		b.WriteString("message from " + code(v.MessageExpression) + " — ")
	}
	b.WriteString(code(v.Rule))
	var extra []string
	if v.Reason != "" {
		extra = append(extra, "reason "+code(v.Reason))
	}
	if v.FieldPath != "" {
		extra = append(extra, "reported on "+code(v.FieldPath))
	}
	if v.OptionalOldSelf != nil && *v.OptionalOldSelf {
		extra = append(extra, "also checked on create")
	}
	if len(extra) > 0 {
		b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	}
	return b.String()
}

// renderCRD writes the reference page of one kind. outDir is where the page
// goes, to link back to the CRD manifest.
func renderCRD(c *crd, outDir string) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	versions := c.orderedVersions()

	p("%s\n\n# %s\n\n", generatedMarker, c.Spec.Names.Kind)
	if len(versions) > 0 {
		if root := versions[0].root(); root != nil && root.Description != "" {
			p("%s\n\n", prose(root.Description))
		}
	}
	n := c.Spec.Names
	p("- API group: %s; resource %s; scope: %s\n", code(c.Spec.Group), code(c.Metadata.Name), c.Spec.Scope)
	p("- Names: kind %s, list kind %s, plural %s, singular %s", code(n.Kind), code(n.ListKind), code(n.Plural), code(n.Singular))
	if len(n.ShortNames) > 0 {
		p(", short names %s", codes(n.ShortNames))
	}
	if len(n.Categories) > 0 {
		p(", categories %s", codes(n.Categories))
	}
	p("\n")
	var vs []string
	for _, v := range versions {
		var notes []string
		if v.Storage {
			notes = append(notes, "storage")
		}
		if v.Deprecated {
			notes = append(notes, "deprecated")
		}
		s := code(v.Name)
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		vs = append(vs, s)
	}
	p("- Served versions: %s\n", strings.Join(vs, ", "))
	for _, v := range c.Spec.Versions {
		if !v.Served {
			p("- Not served: %s\n", code(v.Name))
		}
	}
	if c.Spec.Conversion != nil && c.Spec.Conversion.Strategy != "" {
		p("- Conversion between versions: %s\n", c.Spec.Conversion.Strategy)
	}
	if rel, err := filepath.Rel(outDir, c.file); err == nil {
		p("- Source: [%s](%s)\n", filepath.Base(c.file), filepath.ToSlash(rel))
	}

	for _, v := range versions {
		renderVersion(&b, c, v)
	}
	return b.Bytes()
}

func (v version) root() *schema {
	if v.Schema == nil {
		return nil
	}
	return v.Schema.OpenAPIV3Schema
}

func codes(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

func renderVersion(b *bytes.Buffer, c *crd, v version) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n## %s/%s\n\n", c.Spec.Group, v.Name)

	var facts []string
	if v.Storage {
		facts = append(facts, "Storage version.")
	} else {
		facts = append(facts, "Served; objects are stored as the storage version.")
	}
	if v.Deprecated {
		d := "Deprecated"
		if v.DeprecationWarning != nil && *v.DeprecationWarning != "" {
			d += "; the API server warns: “" + prose(*v.DeprecationWarning) + "”"
		}
		facts = append(facts, d+".")
	}
	if sr := v.Subresources; sr != nil {
		var subs []string
		if sr.Status != nil {
			subs = append(subs, code("status"))
		}
		if sr.Scale != nil {
			subs = append(subs, code("scale"))
		}
		if len(subs) > 0 {
			facts = append(facts, "Subresources: "+strings.Join(subs, ", ")+".")
		}
	}
	p("%s\n", strings.Join(facts, " "))

	if len(v.AdditionalPrinterColumns) > 0 {
		p("\n### Columns of `kubectl get`\n\n")
		p("| Column | Type | JSONPath | Shown | Description |\n|---|---|---|---|---|\n")
		for _, col := range v.AdditionalPrinterColumns {
			shown := "always"
			if col.Priority > 0 {
				shown = "with " + code("-o wide")
			}
			typ := col.Type
			if col.Format != "" {
				typ += " (" + col.Format + ")"
			}
			p("| %s | %s | %s | %s | %s |\n", cell(prose(col.Name)), cell(typ), cell(code(col.JSONPath)), shown, cell(prose(col.Description)))
		}
	}

	root := v.root()
	if root == nil {
		p("\nThis version has no schema.\n")
		return
	}
	fs := fields(root)
	p("\n### Fields\n\n")
	p("The standard %s, %s and %s fields are not repeated here. ", code("apiVersion"), code("kind"), code("metadata"))
	p("%s marks the items of a list, %s the values of a map.\n\n", code("[]"), code(".*"))
	if rules := constraints(root); len(rules) > 0 {
		p("Rules on the whole object:\n\n")
		for _, r := range rules {
			p("- %s\n", r)
		}
		p("\n")
	}
	if len(fs) == 0 {
		p("This version has no fields of its own.\n")
		return
	}
	p("| Field | Type | Required | Default |\n|---|---|---|---|\n")
	for _, f := range fs {
		req := ""
		if f.required {
			req = "yes"
		}
		def := ""
		if f.s.Default != nil {
			def = code(jsonValue(*f.s.Default))
		}
		p("| %s | %s | %s | %s |\n", cell(code(f.path)), cell(code(typeName(f.s))), req, cell(def))
	}
	for _, f := range fs {
		p("\n#### %s\n\n", code(f.path))
		if f.s.Description != "" {
			p("%s\n\n", prose(f.s.Description))
		}
		req := "optional"
		if f.required {
			req = "**required**"
		}
		p("- Type: %s, %s\n", code(typeName(f.s)), req)
		for _, r := range constraints(f.s) {
			p("- %s\n", r)
		}
		if f.s.Items != nil {
			for _, r := range constraints(f.s.Items) {
				p("- Each item: %s\n", lowerFirst(r))
			}
		}
		if f.s.additionalSchema != nil {
			for _, r := range constraints(f.s.additionalSchema) {
				p("- Each value: %s\n", lowerFirst(r))
			}
		}
	}
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// renderIndex writes the reference's README: one row per kind, and the
// flags page.
func renderIndex(crds []*crd) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("%s\n\n# Configuration reference\n\n", generatedMarker)
	p("Generated by %s from the CustomResourceDefinitions in %s and from the binaries' %s output; do not edit by hand.\n\n",
		code("go run ./hack/crdref"), code("config/crd/bases"), code("-h"))
	p("| Kind | Versions | Description |\n|---|---|---|\n")
	for _, c := range crds {
		var vs []string
		desc := ""
		for i, v := range c.orderedVersions() {
			vs = append(vs, code(v.Name))
			if i == 0 && v.root() != nil {
				desc = firstSentence(v.root().Description)
			}
		}
		p("| [%s](%s) | %s | %s |\n", c.Spec.Names.Kind, c.pageName(), strings.Join(vs, ", "), cell(prose(desc)))
	}
	p("\nCommand-line flags and environment variables of the controller and the speaker: [flags.md](flags.md).\n")
	return b.Bytes()
}
