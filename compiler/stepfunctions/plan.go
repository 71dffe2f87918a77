package stepfunctions

import (
	"sort"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// block is a piece of a pipeline in the shape ASL can write: one step, a
// sequence of blocks, or blocks that run side by side (a Parallel state).
type block struct {
	step *graph.Step
	seq  []*block
	par  []*block
}

// added is a wait the translation adds: step waits for other, which it did
// not ask for.
type added struct {
	step, other string
}

// planner turns a pipeline's DAG into blocks. The strategy, for any DAG:
//
//  1. Steps that fall apart into groups with no edge between them (weakly
//     connected components) run side by side: a Parallel with one branch
//     per group.
//  2. Otherwise, a set of steps whose every member must finish before any
//     other step of the set starts (a cut where each step before it is an
//     ancestor of each step after it) splits them into a sequence. This
//     adds nothing: the graph already orders them so.
//  3. A group that admits neither is not series-parallel (the smallest is
//     the "N": a→c, b→c, b→d). It is cut anyway, into an earlier and a
//     later part, at the cut that adds the fewest waits a step did not ask
//     for (candidates: every prefix of the topological order, and every
//     step's set of ancestors; ties go to the earlier cut). Steps after the
//     cut then wait for every step before it: still no step starts before
//     all of its after succeeded, and none runs twice, but some wait
//     longer than they must. Each such wait is reported.
//
// The result is then simplified: nested sequences are flattened.
type planner struct {
	steps []*graph.Step
	index map[string]int
	// reach[i][j]: step j is a descendant of step i.
	reach [][]bool
	added []added
}

func newPlanner(p *graph.Pipeline) *planner {
	pl := &planner{steps: p.Steps, index: map[string]int{}}
	for i, s := range p.Steps {
		pl.index[s.Name] = i
	}
	n := len(p.Steps)
	pl.reach = make([][]bool, n)
	for i := range pl.reach {
		pl.reach[i] = make([]bool, n)
	}
	// Steps are in topological order: walk backwards so each step's
	// descendants are known before its ancestors need them.
	for j := n - 1; j >= 0; j-- {
		for _, a := range p.Steps[j].After {
			i, ok := pl.index[a]
			if !ok {
				continue
			}
			pl.reach[i][j] = true
			for k := 0; k < n; k++ {
				if pl.reach[j][k] {
					pl.reach[i][k] = true
				}
			}
		}
	}
	return pl
}

// AddedWaits lists the waits the Step Functions translation of p adds,
// which the graph does not ask for: pairs of a step and a step it will
// also wait for.
func AddedWaits(p *graph.Pipeline) [][2]string {
	_, waits := plan(p)
	out := make([][2]string, 0, len(waits))
	for _, w := range waits {
		out = append(out, [2]string{w.step, w.other})
	}
	return out
}

// plan returns the blocks of the whole pipeline, and the waits it added.
func plan(p *graph.Pipeline) (*block, []added) {
	pl := newPlanner(p)
	all := make([]int, len(p.Steps))
	for i := range all {
		all[i] = i
	}
	b := pl.decompose(all)
	return flatten(b), pl.added
}

// decompose writes the steps of set (indexes, in topological order).
func (pl *planner) decompose(set []int) *block {
	if len(set) == 1 {
		return &block{step: pl.steps[set[0]]}
	}
	if comps := pl.components(set); len(comps) > 1 {
		b := &block{}
		for _, c := range comps {
			b.par = append(b.par, pl.decompose(c))
		}
		return b
	}
	// Series: the finest cuts that add nothing.
	var parts [][]int
	start := 0
	for k := 1; k < len(set); k++ {
		if pl.cost(set[start:], k-start) == 0 {
			parts = append(parts, set[start:k])
			start = k
		}
	}
	if start > 0 {
		parts = append(parts, set[start:])
		b := &block{}
		for _, part := range parts {
			b.seq = append(b.seq, pl.decompose(part))
		}
		return b
	}
	// Not series-parallel: the cheapest cut.
	before, after := pl.cheapestCut(set)
	for _, j := range after {
		for _, i := range before {
			if !pl.reach[i][j] {
				pl.added = append(pl.added, added{step: pl.steps[j].Name, other: pl.steps[i].Name})
			}
		}
	}
	return &block{seq: []*block{pl.decompose(before), pl.decompose(after)}}
}

// cost counts the pairs (a before the cut, b after it) where b does not
// depend on a: the waits cutting set after its first k members adds.
func (pl *planner) cost(set []int, k int) int {
	n := 0
	for _, i := range set[:k] {
		for _, j := range set[k:] {
			if !pl.reach[i][j] {
				n++
			}
		}
	}
	return n
}

// cheapestCut splits a connected set that has no free cut.
func (pl *planner) cheapestCut(set []int) (before, after []int) {
	best, bestCost := -1, 0
	var bestBefore, bestAfter []int
	try := func(in func(int) bool) {
		var b, a []int
		for _, i := range set {
			if in(i) {
				b = append(b, i)
			} else {
				a = append(a, i)
			}
		}
		if len(b) == 0 || len(a) == 0 {
			return
		}
		c := 0
		for _, i := range b {
			for _, j := range a {
				if !pl.reach[i][j] {
					c++
				}
			}
		}
		if best < 0 || c < bestCost {
			best, bestCost, bestBefore, bestAfter = 1, c, b, a
		}
	}
	for k := 1; k < len(set); k++ {
		prefix := map[int]bool{}
		for _, i := range set[:k] {
			prefix[i] = true
		}
		try(func(i int) bool { return prefix[i] })
	}
	for _, j := range set {
		try(func(i int) bool { return pl.reach[i][j] })
	}
	return bestBefore, bestAfter
}

// components splits set into weakly connected groups, each in topological
// order, the groups ordered by their first step.
func (pl *planner) components(set []int) [][]int {
	in := map[int]bool{}
	for _, i := range set {
		in[i] = true
	}
	parent := map[int]int{}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for _, i := range set {
		parent[i] = i
	}
	for _, j := range set {
		for _, a := range pl.steps[j].After {
			if i, ok := pl.index[a]; ok && in[i] {
				ri, rj := find(i), find(j)
				if ri != rj {
					if ri < rj {
						parent[rj] = ri
					} else {
						parent[ri] = rj
					}
				}
			}
		}
	}
	groups := map[int][]int{}
	var roots []int
	for _, i := range set {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	sort.Ints(roots)
	out := make([][]int, 0, len(roots))
	for _, r := range roots {
		out = append(out, groups[r])
	}
	return out
}

// flatten merges sequences inside sequences.
func flatten(b *block) *block {
	if b.step != nil {
		return b
	}
	if b.par != nil {
		for i, c := range b.par {
			b.par[i] = flatten(c)
		}
		return b
	}
	var seq []*block
	for _, c := range b.seq {
		c = flatten(c)
		if c.seq != nil {
			seq = append(seq, c.seq...)
		} else {
			seq = append(seq, c)
		}
	}
	b.seq = seq
	return b
}
