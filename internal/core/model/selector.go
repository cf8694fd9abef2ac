package model

import (
	"fmt"
	"slices"
	"strings"
)

// Selector operators, spelled as in Kubernetes label selectors.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// Requirement is one match expression of a label selector.
type Requirement struct {
	Key      string
	Operator string
	Values   []string
}

// Selector is a Kubernetes label selector without Kubernetes: all
// MatchLabels and all MatchExpressions must hold (AND). The zero Selector
// matches everything.
type Selector struct {
	MatchLabels      map[string]string
	MatchExpressions []Requirement
}

// Empty reports whether the selector has no terms and so matches every set
// of labels.
func (s Selector) Empty() bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// Validate checks the operators and value counts the way the Kubernetes API
// does: In and NotIn need values, Exists and DoesNotExist must have none.
func (s Selector) Validate() error {
	for k := range s.MatchLabels {
		if k == "" {
			return fmt.Errorf("matchLabels has an empty key")
		}
	}
	for _, r := range s.MatchExpressions {
		if r.Key == "" {
			return fmt.Errorf("matchExpressions has an empty key")
		}
		switch r.Operator {
		case OpIn, OpNotIn:
			if len(r.Values) == 0 {
				return fmt.Errorf("operator %s for key %q needs at least one value", r.Operator, r.Key)
			}
		case OpExists, OpDoesNotExist:
			if len(r.Values) != 0 {
				return fmt.Errorf("operator %s for key %q takes no values", r.Operator, r.Key)
			}
		default:
			return fmt.Errorf("unknown operator %q for key %q", r.Operator, r.Key)
		}
	}
	return nil
}

// Matches reports whether labels satisfy every term of the selector. An
// invalid requirement matches nothing.
func (s Selector) Matches(labels map[string]string) bool {
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case OpIn:
			if !ok || !slices.Contains(r.Values, v) {
				return false
			}
		case OpNotIn:
			if ok && slices.Contains(r.Values, v) {
				return false
			}
		case OpExists:
			if !ok {
				return false
			}
		case OpDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// String renders the selector canonically (sorted keys, sorted values), so
// two selectors that mean the same thing print the same. Used for duplicate
// detection and messages.
func (s Selector) String() string {
	var parts []string
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+s.MatchLabels[k])
	}
	exprs := make([]string, 0, len(s.MatchExpressions))
	for _, r := range s.MatchExpressions {
		vals := slices.Clone(r.Values)
		slices.Sort(vals)
		exprs = append(exprs, r.Key+" "+r.Operator+" ("+strings.Join(vals, ",")+")")
	}
	slices.Sort(exprs)
	parts = append(parts, exprs...)
	return "{" + strings.Join(parts, ", ") + "}"
}

// MatchesAny reports whether any selector matches labels. An empty list
// matches nothing; callers decide what "no selectors" means.
func MatchesAny(sels []Selector, labels map[string]string) bool {
	for _, s := range sels {
		if s.Matches(labels) {
			return true
		}
	}
	return false
}
