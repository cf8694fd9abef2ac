package snapshot

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func TestSelector(t *testing.T) {
	tests := []struct {
		name string
		in   metav1.LabelSelector
		want model.Selector
		// labels the converted selector must match, and must not match
		match, noMatch map[string]string
	}{
		{
			name:  "empty matches everything",
			in:    metav1.LabelSelector{},
			want:  model.Selector{},
			match: map[string]string{"any": "thing"},
		},
		{
			name:    "match labels",
			in:      metav1.LabelSelector{MatchLabels: map[string]string{"rack": "a", "zone": "z1"}},
			want:    model.Selector{MatchLabels: map[string]string{"rack": "a", "zone": "z1"}},
			match:   map[string]string{"rack": "a", "zone": "z1", "x": "y"},
			noMatch: map[string]string{"rack": "a"},
		},
		{
			name: "every operator",
			in: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"z1", "z2"}},
				{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"edge"}},
				{Key: "bgp", Operator: metav1.LabelSelectorOpExists},
				{Key: "excluded", Operator: metav1.LabelSelectorOpDoesNotExist},
			}},
			want: model.Selector{MatchExpressions: []model.Requirement{
				{Key: "zone", Operator: model.OpIn, Values: []string{"z1", "z2"}},
				{Key: "tier", Operator: model.OpNotIn, Values: []string{"edge"}},
				{Key: "bgp", Operator: model.OpExists},
				{Key: "excluded", Operator: model.OpDoesNotExist},
			}},
			match:   map[string]string{"zone": "z2", "tier": "core", "bgp": ""},
			noMatch: map[string]string{"zone": "z2", "tier": "core", "bgp": "", "excluded": "true"},
		},
		{
			name: "unknown operator is kept for the compiler to reject",
			in: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "k", Operator: "Gt", Values: []string{"1"}},
			}},
			want: model.Selector{MatchExpressions: []model.Requirement{
				{Key: "k", Operator: "Gt", Values: []string{"1"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Selector(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Selector (-want +got):\n%s", diff)
			}
			if tt.match != nil && !got.Matches(tt.match) {
				t.Errorf("%v does not match %v", got, tt.match)
			}
			if tt.noMatch != nil && got.Matches(tt.noMatch) {
				t.Errorf("%v matches %v", got, tt.noMatch)
			}
		})
	}
}

func TestSelectorsKeepsOrderAndCopies(t *testing.T) {
	in := []metav1.LabelSelector{
		{MatchLabels: map[string]string{"b": "2"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "In", Values: []string{"1"}}}},
	}
	got := Selectors(in)
	want := []model.Selector{
		{MatchLabels: map[string]string{"b": "2"}},
		{MatchExpressions: []model.Requirement{{Key: "a", Operator: "In", Values: []string{"1"}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Selectors (-want +got):\n%s", diff)
	}
	got[0].MatchLabels["b"] = "changed"
	got[1].MatchExpressions[0].Values[0] = "changed"
	if in[0].MatchLabels["b"] != "2" || in[1].MatchExpressions[0].Values[0] != "1" {
		t.Errorf("Selectors shares memory with its input: %+v", in)
	}
	if Selectors(nil) != nil || Selectors([]metav1.LabelSelector{}) != nil {
		t.Error("Selectors of an empty list is not nil")
	}
}
