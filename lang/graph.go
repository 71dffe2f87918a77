package lang

import "sort"

// findCycles returns every cycle of the directed graph given by nodes and
// edges, one per strongly connected component (a self-edge is a cycle of one).
// Each cycle is a path that starts at the component's smallest name and
// follows edges back to it, so messages are the same on every run whatever
// the declaration order (Terraform rotates its cycle messages for the same
// reason).
func findCycles(nodes []string, edges func(string) []string) [][]string {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var comps [][]string
	next := 0
	var strong func(v string)
	strong = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges(v) {
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			comps = append(comps, comp)
		}
	}
	sorted := append([]string(nil), nodes...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if _, seen := index[n]; !seen {
			strong(n)
		}
	}

	var cycles [][]string
	for _, comp := range comps {
		in := map[string]bool{}
		for _, n := range comp {
			in[n] = true
		}
		sort.Strings(comp)
		// A step waiting for itself is a loop of its own; reported apart,
		// it cannot hide a longer loop through the same node.
		for _, n := range comp {
			if contains(edges(n), n) {
				cycles = append(cycles, []string{n})
			}
		}
		if len(comp) > 1 {
			cycles = append(cycles, shortestLoop(comp[0], in, edges))
		}
	}
	sort.SliceStable(cycles, func(i, j int) bool {
		if cycles[i][0] != cycles[j][0] {
			return cycles[i][0] < cycles[j][0]
		}
		return len(cycles[i]) < len(cycles[j])
	})
	return cycles
}

// shortestLoop walks breadth-first inside one component from start back to
// start, visiting successors in name order so the path is deterministic.
func shortestLoop(start string, in map[string]bool, edges func(string) []string) []string {
	prev := map[string]string{}
	queue := []string{start}
	visited := map[string]bool{}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		succ := append([]string(nil), edges(v)...)
		sort.Strings(succ)
		for _, w := range succ {
			if !in[w] || w == v {
				continue
			}
			if w == start {
				path := []string{v}
				for p := v; p != start; {
					p = prev[p]
					path = append(path, p)
				}
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return path
			}
			if !visited[w] {
				visited[w] = true
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []string{start}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
