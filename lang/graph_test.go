package lang

import (
	"reflect"
	"testing"
)

func TestFindCycles(t *testing.T) {
	tests := []struct {
		name  string
		edges map[string][]string
		want  [][]string
	}{
		{"none", map[string][]string{"a": {"b"}, "b": {"c"}, "c": nil}, nil},
		{"self", map[string][]string{"a": {"a"}}, [][]string{{"a"}}},
		{"two", map[string][]string{"b": {"a"}, "a": {"b"}}, [][]string{{"a", "b"}}},
		{"three rotated to the smallest", map[string][]string{"c": {"a"}, "a": {"b"}, "b": {"c"}}, [][]string{{"a", "b", "c"}}},
		{"two separate", map[string][]string{"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x"}, "z": {"a"}}, [][]string{{"a", "b"}, {"x", "y"}}},
		{"shortest loop through the smallest", map[string][]string{"a": {"d", "b"}, "b": {"a"}, "d": {"e"}, "e": {"a"}}, [][]string{{"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nodes []string
			for n := range tt.edges {
				nodes = append(nodes, n)
			}
			got := findCycles(nodes, func(n string) []string { return tt.edges[n] })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findCycles = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFindCyclesSelfLoopInsideLoop(t *testing.T) {
	edges := map[string][]string{"a": {"a", "b"}, "b": {"a"}}
	got := findCycles([]string{"b", "a"}, func(n string) []string { return edges[n] })
	want := [][]string{{"a"}, {"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findCycles = %v, want %v", got, want)
	}
}
