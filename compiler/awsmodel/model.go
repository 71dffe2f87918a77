package awsmodel

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strings"
)

// Model is one service's Smithy 2.0 JSON AST model, reduced to what input
// validation needs. It is read-only after [Load], so one Model can serve
// parallel tests.
type Model struct {
	path   string
	shapes map[string]*shape
	// ops maps an operation's short name ("RegisterTaskDefinition") and its
	// full shape ID to the full shape ID.
	ops map[string]string
	// patterns holds every pattern trait of the model, compiled once, so a
	// pattern RE2 cannot run is known (and reportable) before any document is
	// checked rather than discovered one document at a time.
	patterns map[string]*patternCheck
}

type shape struct {
	id    string
	typ   string
	trait traits
	// members of a structure, union, enum or intEnum.
	members map[string]*member
	// member of a list or set; key and value of a map.
	member, key, value *member
	// input of an operation (a shape ID), "" when it has none.
	input string
}

type member struct {
	name   string
	target string
	trait  traits
}

// traits keeps only the traits that constrain an input value.
type traits struct {
	required    bool
	sparse      bool
	uniqueItems bool
	length      *bounds
	rng         *bounds
	pattern     string
	enumValue   json.RawMessage // on an enum or intEnum member
	legacyEnum  []string        // smithy.api#enum on a string shape
}

// bounds is a length or range trait. Range bounds are BigDecimal in Smithy,
// so they are kept as exact rationals rather than float64.
type bounds struct {
	min, max         *big.Rat
	minText, maxText string // as the model writes them, for messages
}

// prelude is the subset of Smithy's prelude (smithy.api#...) that a member
// can target. The AWS models refer to smithy.api#Unit; the rest are here so a
// model that targets smithy.api#String or PrimitiveInteger resolves too.
var prelude = map[string]string{
	"String": "string", "Blob": "blob", "BigInteger": "bigInteger", "BigDecimal": "bigDecimal",
	"Timestamp": "timestamp", "Document": "document", "Boolean": "boolean", "PrimitiveBoolean": "boolean",
	"Byte": "byte", "PrimitiveByte": "byte", "Short": "short", "PrimitiveShort": "short",
	"Integer": "integer", "PrimitiveInteger": "integer", "Long": "long", "PrimitiveLong": "long",
	"Float": "float", "PrimitiveFloat": "float", "Double": "double", "PrimitiveDouble": "double",
	"Unit": "structure",
}

// Load reads a Smithy 2.0 JSON AST model.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.path = path
	return m, nil
}

type astShape struct {
	Type    string                     `json:"type"`
	Members map[string]astMember       `json:"members"`
	Member  *astMember                 `json:"member"`
	Key     *astMember                 `json:"key"`
	Value   *astMember                 `json:"value"`
	Input   *astMember                 `json:"input"`
	Traits  map[string]json.RawMessage `json:"traits"`
	Mixins  []astMember                `json:"mixins"`
}

type astMember struct {
	Target string                     `json:"target"`
	Traits map[string]json.RawMessage `json:"traits"`
}

func parseModel(data []byte) (*Model, error) {
	var ast struct {
		Smithy string              `json:"smithy"`
		Shapes map[string]astShape `json:"shapes"`
	}
	if err := json.Unmarshal(data, &ast); err != nil {
		return nil, fmt.Errorf("not a Smithy JSON AST: %w", err)
	}
	if !strings.HasPrefix(ast.Smithy, "2.") {
		// 1.0 models spell enums as a trait on strings and sets as a type;
		// both are handled, but other 1.0 differences are not, so say so.
		return nil, fmt.Errorf("smithy version %q, want 2.x", ast.Smithy)
	}
	m := &Model{
		shapes:   make(map[string]*shape, len(ast.Shapes)+len(prelude)),
		ops:      map[string]string{},
		patterns: map[string]*patternCheck{},
	}
	for name, typ := range prelude {
		id := "smithy.api#" + name
		m.shapes[id] = &shape{id: id, typ: typ, members: map[string]*member{}}
	}
	for id, as := range ast.Shapes {
		if len(as.Mixins) > 0 {
			// The published AWS models are flattened; a model with mixins
			// would silently lose the mixed-in members here.
			return nil, fmt.Errorf("shape %s uses mixins, which this loader does not flatten", id)
		}
		s := &shape{id: id, typ: as.Type}
		var err error
		if s.trait, err = m.parseTraits(as.Traits); err != nil {
			return nil, fmt.Errorf("shape %s: %w", id, err)
		}
		mk := func(name string, am *astMember) (*member, error) {
			if am == nil {
				return nil, nil
			}
			t, err := m.parseTraits(am.Traits)
			if err != nil {
				return nil, fmt.Errorf("shape %s member %s: %w", id, name, err)
			}
			return &member{name: name, target: am.Target, trait: t}, nil
		}
		if as.Members != nil {
			s.members = make(map[string]*member, len(as.Members))
			for name, am := range as.Members {
				if s.members[name], err = mk(name, &am); err != nil {
					return nil, err
				}
			}
		}
		if s.member, err = mk("member", as.Member); err != nil {
			return nil, err
		}
		if s.key, err = mk("key", as.Key); err != nil {
			return nil, err
		}
		if s.value, err = mk("value", as.Value); err != nil {
			return nil, err
		}
		if as.Input != nil {
			s.input = as.Input.Target
		}
		m.shapes[id] = s
		if s.typ == "operation" {
			m.ops[id] = id
			short := id[strings.IndexByte(id, '#')+1:]
			if prev, ok := m.ops[short]; ok && prev != id {
				// Two namespaces with one operation name: only the full ID
				// is unambiguous, so the short name is withdrawn.
				m.ops[short] = ""
			} else {
				m.ops[short] = id
			}
		}
	}
	return m, nil
}

func (m *Model) parseTraits(raw map[string]json.RawMessage) (traits, error) {
	var t traits
	for name, v := range raw {
		var err error
		switch name {
		case "smithy.api#required":
			t.required = true
		case "smithy.api#sparse":
			t.sparse = true
		case "smithy.api#uniqueItems":
			t.uniqueItems = true
		case "smithy.api#length":
			t.length, err = parseBounds(v)
		case "smithy.api#range":
			t.rng, err = parseBounds(v)
		case "smithy.api#pattern":
			err = json.Unmarshal(v, &t.pattern)
			if err == nil {
				if _, ok := m.patterns[t.pattern]; !ok {
					m.patterns[t.pattern] = compilePattern(t.pattern)
				}
			}
		case "smithy.api#enumValue":
			t.enumValue = v
		case "smithy.api#enum":
			var defs []struct {
				Value string `json:"value"`
			}
			err = json.Unmarshal(v, &defs)
			for _, d := range defs {
				t.legacyEnum = append(t.legacyEnum, d.Value)
			}
		}
		if err != nil {
			return t, fmt.Errorf("trait %s: %w", name, err)
		}
	}
	return t, nil
}

func parseBounds(raw json.RawMessage) (*bounds, error) {
	var b struct {
		Min *json.Number `json:"min"`
		Max *json.Number `json:"max"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	out := &bounds{}
	for _, p := range []struct {
		n    *json.Number
		dst  **big.Rat
		text *string
	}{{b.Min, &out.min, &out.minText}, {b.Max, &out.max, &out.maxText}} {
		if p.n == nil {
			continue
		}
		r, ok := new(big.Rat).SetString(p.n.String())
		if !ok {
			return nil, fmt.Errorf("bound %q is not a number", p.n.String())
		}
		*p.dst, *p.text = r, p.n.String()
	}
	return out, nil
}

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Operations lists the operation names the model defines, sorted.
func (m *Model) Operations() []string {
	var out []string
	for name, id := range m.ops {
		if id != "" && !strings.Contains(name, "#") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// PatternIssue is a pattern trait that is not fully checked, because Go's
// RE2 engine cannot run it as written.
type PatternIssue struct {
	Pattern string
	// Shapes are the shapes and members (shape$member) that carry it.
	Shapes []string
	// Relaxed is true when the pattern is still checked without its
	// lookaround assertions: dropping a zero-width assertion only widens what
	// matches, so a value that fails the relaxed pattern fails the real one
	// too. When false the pattern is skipped altogether.
	Relaxed bool
	// Reason says what RE2 could not do.
	Reason string
}

func (p PatternIssue) String() string {
	how := "skipped"
	if p.Relaxed {
		how = "relaxed"
	}
	return fmt.Sprintf("%s %q (%s) on %s", how, p.Pattern, p.Reason, strings.Join(p.Shapes, ", "))
}

// UncheckedPatterns lists the model's patterns that RE2 cannot check as
// written, sorted by pattern, so a test log can say exactly which parts of
// the model are not enforced.
func (m *Model) UncheckedPatterns() []PatternIssue {
	var out []PatternIssue
	for p, c := range m.patterns {
		if c.err == nil && !c.relaxed {
			continue
		}
		pi := PatternIssue{Pattern: p, Relaxed: c.err == nil}
		if c.err != nil {
			pi.Reason = c.err.Error()
		} else {
			pi.Reason = "lookaround assertions are not supported by RE2"
		}
		for id, s := range m.shapes {
			if s.trait.pattern == p {
				pi.Shapes = append(pi.Shapes, id)
			}
			for _, mem := range s.allMembers() {
				if mem.trait.pattern == p {
					pi.Shapes = append(pi.Shapes, id+"$"+mem.name)
				}
			}
		}
		sort.Strings(pi.Shapes)
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

func (s *shape) allMembers() []*member {
	out := make([]*member, 0, len(s.members)+3)
	for _, mem := range s.members {
		out = append(out, mem)
	}
	for _, mem := range []*member{s.member, s.key, s.value} {
		if mem != nil {
			out = append(out, mem)
		}
	}
	return out
}

// shortName is the part of a shape ID after '#', the name AWS's
// documentation uses.
func shortName(id string) string {
	return id[strings.IndexByte(id, '#')+1:]
}
