package convert

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// problems collects decoding errors, each naming the field at fault.
type problems struct {
	list []string
}

func (p *problems) add(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	p.list = append(p.list, msg)
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &InputError{Problems: slices.Clone(p.list)}
}

// InputError is an input that cannot be converted; each problem names the
// field at fault.
type InputError struct {
	Problems []string
}

func (e *InputError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// join appends key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// typeName describes a decoded JSON value for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// quoteHint suggests quoting a scalar that YAML read as a number or a
// boolean where a string is wanted (yes, 0123 and 1e3 are not strings).
func quoteHint(v any) string {
	switch v.(type) {
	case json.Number, bool:
		return " (put the value in quotes)"
	}
	return ""
}

// object reads the keys of one mapping of the input, remembering which
// were read so that done can report the others as unknown.
type object struct {
	path string
	m    map[string]any
	used map[string]bool
	p    *problems
}

// asObject wraps v, which must be a mapping (or null, read as empty).
func asObject(v any, path string, p *problems) (*object, bool) {
	switch m := v.(type) {
	case map[string]any:
		return &object{path: path, m: m, used: map[string]bool{}, p: p}, true
	case nil:
		return &object{path: path, m: map[string]any{}, used: map[string]bool{}, p: p}, true
	}
	p.add(path, "must be a mapping, got %s", typeName(v))
	return nil, false
}

// get returns the value of key; a null value counts as absent.
func (o *object) get(key string) (any, bool) {
	o.used[key] = true
	v, ok := o.m[key]
	return v, ok && v != nil
}

func (o *object) field(key string) string { return join(o.path, key) }

// done reports every key that was not read.
func (o *object) done() {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		o.p.add(o.field(k), "unknown field")
	}
}

func (o *object) str(key string) string {
	v, ok := o.get(key)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		o.p.add(o.field(key), "must be a string, got %s%s", typeName(v), quoteHint(v))
	}
	return s
}

// requiredStr is str for a key that must be a non-empty string.
func (o *object) requiredStr(key string) string {
	v, _ := o.get(key)
	s := o.str(key)
	if _, isStr := v.(string); s == "" && (v == nil || isStr) {
		o.p.add(o.field(key), "required")
	}
	return s
}

// boolean returns nil when key is absent.
func (o *object) boolean(key string) *bool {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		o.p.add(o.field(key), "must be true or false, got %s", typeName(v))
		return nil
	}
	return &b
}

// integer returns the value of key if it is an integer in [lo, hi].
func (o *object) integer(key string, lo, hi int64) (int64, bool) {
	v, ok := o.get(key)
	if !ok {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		o.p.add(o.field(key), "must be a number, got %s", typeName(v))
		return 0, false
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		// YAML 1.0 reads as 1: accept floats with no fractional part.
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f > math.MaxInt64 {
			o.p.add(o.field(key), "must be a whole number, got %s", n)
			return 0, false
		}
		i = int64(f)
	}
	if i < lo || i > hi {
		o.p.add(o.field(key), "%d is out of range %d..%d", i, lo, hi)
		return 0, false
	}
	return i, true
}

func (o *object) uint32(key string) (uint32, bool) {
	i, ok := o.integer(key, 0, math.MaxUint32)
	return uint32(i), ok
}

// uint32Ptr returns nil when key is absent or invalid.
func (o *object) uint32Ptr(key string) *uint32 {
	if v, ok := o.uint32(key); ok {
		return &v
	}
	return nil
}

func (o *object) int32Ptr(key string) *int32 {
	if i, ok := o.integer(key, math.MinInt32, math.MaxInt32); ok {
		v := int32(i)
		return &v
	}
	return nil
}

// list returns the items of a list value, or nil.
func (o *object) list(key string) []any {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		o.p.add(o.field(key), "must be a list, got %s", typeName(v))
		return nil
	}
	return l
}

// strs returns a list of strings.
func (o *object) strs(key string) []string {
	items := o.list(key)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, v := range items {
		s, ok := v.(string)
		if !ok {
			o.p.add(index(o.field(key), i), "must be a string, got %s%s", typeName(v), quoteHint(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

// strMap returns a mapping of strings to strings.
func (o *object) strMap(key string) map[string]string {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		o.p.add(o.field(key), "must be a mapping, got %s", typeName(v))
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			o.p.add(join(o.field(key), k), "must be a string, got %s%s", typeName(v), quoteHint(v))
			continue
		}
		out[k] = s
	}
	return out
}
