package snapshot

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Selector converts a Kubernetes label selector to the core's selector.
// Operators are copied as written; the compiler validates them.
func Selector(s metav1.LabelSelector) model.Selector {
	out := model.Selector{MatchLabels: maps.Clone(s.MatchLabels)}
	if len(s.MatchExpressions) > 0 {
		out.MatchExpressions = make([]model.Requirement, len(s.MatchExpressions))
		for i, e := range s.MatchExpressions {
			out.MatchExpressions[i] = model.Requirement{
				Key:      e.Key,
				Operator: string(e.Operator),
				Values:   slices.Clone(e.Values),
			}
		}
	}
	return out
}

// Selectors converts a list of label selectors, keeping their order. An
// empty list gives nil.
func Selectors(in []metav1.LabelSelector) []model.Selector {
	if len(in) == 0 {
		return nil
	}
	out := make([]model.Selector, len(in))
	for i, s := range in {
		out[i] = Selector(s)
	}
	return out
}
