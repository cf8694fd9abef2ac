package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Label syntax as the Kubernetes API defines it: a key is an optional DNS
// subdomain prefix and "/" followed by a name of at most 63 characters; a
// value is empty or a name.
var (
	labelNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsSubdomRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

func checkLabelKey(k string) error {
	name := k
	if prefix, rest, ok := strings.Cut(k, "/"); ok {
		if prefix == "" || len(prefix) > 253 || !dnsSubdomRE.MatchString(prefix) {
			return fmt.Errorf("label key %q has an invalid prefix (must be a lowercase DNS subdomain)", k)
		}
		name = rest
	}
	if name == "" || len(name) > 63 || !labelNameRE.MatchString(name) {
		return fmt.Errorf("label key %q is invalid (name part: at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)", k)
	}
	return nil
}

func checkLabelValue(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 63 || !labelNameRE.MatchString(v) {
		return fmt.Errorf("label value %q is invalid (at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)", v)
	}
	return nil
}

// checkSelector reports the first problem of one selector: a bad operator
// or value count (model.Selector.Validate) or bad label syntax. With strict,
// repeated match expressions and repeated values are problems too (the
// rules MetalLB applies to serviceAllocation selectors).
func checkSelector(s model.Selector, strict bool) error {
	if err := s.Validate(); err != nil {
		return err
	}
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := checkLabelKey(k); err != nil {
			return err
		}
		if err := checkLabelValue(s.MatchLabels[k]); err != nil {
			return err
		}
	}
	seenExpr := map[string]bool{}
	for _, r := range s.MatchExpressions {
		if err := checkLabelKey(r.Key); err != nil {
			return err
		}
		seenVal := map[string]bool{}
		for _, v := range r.Values {
			if err := checkLabelValue(v); err != nil {
				return err
			}
			if strict && seenVal[v] {
				return fmt.Errorf("duplicate value %q in match expression for key %q", v, r.Key)
			}
			seenVal[v] = true
		}
		one := model.Selector{MatchExpressions: []model.Requirement{r}}.String()
		if strict && seenExpr[one] {
			return fmt.Errorf("duplicate match expression %s", one)
		}
		seenExpr[one] = true
	}
	return nil
}

// checkSelectors validates a list of selectors found at field (a JSON path
// such as "spec.nodeSelectors"): every selector valid, none repeated
// (compared canonically, so value and key order do not matter).
func checkSelectors(errs *errorList, kind Kind, name, field string, sels []model.Selector, strict bool) {
	seen := map[string]int{}
	for i, s := range sels {
		at := fmt.Sprintf("%s[%d]", field, i)
		if err := checkSelector(s, strict); err != nil {
			errs.add(kind, name, at, "invalid selector: %v", err)
			continue
		}
		key := s.String()
		if j, dup := seen[key]; dup {
			errs.add(kind, name, at, "duplicate selector %s (same as %s[%d])", key, field, j)
			continue
		}
		seen[key] = i
	}
}

// checkDuplicateNames reports repeated entries of a list of names at field.
func checkDuplicateNames(errs *errorList, kind Kind, name, field, what string, list []string) {
	seen := map[string]int{}
	for i, v := range list {
		if j, dup := seen[v]; dup {
			errs.add(kind, name, fmt.Sprintf("%s[%d]", field, i), "duplicate %s %q (same as %s[%d])", what, v, field, j)
			continue
		}
		seen[v] = i
	}
}

// matchesOrAll reports whether labels match any selector, an empty list
// matching everything (the meaning of empty nodeSelectors and
// serviceSelectors in advertisements and peers).
func matchesOrAll(sels []model.Selector, labels map[string]string) bool {
	return len(sels) == 0 || model.MatchesAny(sels, labels)
}
