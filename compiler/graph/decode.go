package graph

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Decode reads graph.json as Compile writes it, for the platform's code on
// AWS, which runs from the graph deploy uploads rather than from the
// configuration. Steps are linked to their tasks again by name.
func Decode(data []byte) (*Graph, error) {
	var g Graph
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("not a compiled graph: %w", err)
	}
	if g.Prefix == "" {
		return nil, errors.New("not a compiled graph: it has no prefix")
	}
	tasks := map[string]*Task{}
	for _, t := range g.Tasks {
		tasks[t.Name] = t
	}
	for _, p := range g.Pipelines {
		for _, s := range p.Steps {
			t, ok := tasks[s.TaskName]
			if !ok {
				return nil, fmt.Errorf("compiled graph: step %s of pipeline %s runs task %q, which the graph does not list", s.Name, p.Name, s.TaskName)
			}
			s.Task = t
		}
	}
	return &g, nil
}
