package awsmodel

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agext/levenshtein"
)

// Violation is one way a document breaks its API's model.
type Violation struct {
	// Path locates the value, in the member names of the model:
	// "containerDefinitions[0].memory", `Tags["team"]`; "" is the document.
	Path    string
	Message string
	// Kind says which rule was broken, so a test can tell, say, a stale enum
	// from a misspelt member without matching message text.
	Kind Kind
}

func (v Violation) String() string {
	if v.Path == "" {
		return "(document): " + v.Message
	}
	return v.Path + ": " + v.Message
}

// Kind is the rule a [Violation] breaks.
type Kind string

// The kinds of [Violation].
const (
	KindSyntax        Kind = "syntax"         // not JSON, or no such operation
	KindUnknownMember Kind = "unknown-member" // a member the shape does not have
	KindRequired      Kind = "required"       // smithy.api#required member absent
	KindType          Kind = "type"           // wrong JSON type, null, or a number outside its type
	KindDuplicate     Kind = "duplicate"      // a key twice in one object; uniqueItems broken
	KindUnion         Kind = "union"          // a union with other than one member set
	KindEnum          Kind = "enum"           // not a value of the enum
	KindLength        Kind = "length"         // smithy.api#length
	KindRange         Kind = "range"          // smithy.api#range
	KindPattern       Kind = "pattern"        // smithy.api#pattern
)

// Errors drops enum violations. The models are a snapshot (see the README
// beside them): a value AWS added since, such as a new Lambda runtime, is
// reported as KindEnum, which the models' README says to treat as a warning.
// Tests that must tolerate newer values check Errors(vs) instead of vs.
func Errors(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Kind != KindEnum {
			out = append(out, v)
		}
	}
	return out
}

// ValidateInput checks a JSON document against the input structure of
// operation op ("RegisterTaskDefinition", or a full shape ID), returning every
// violation, not just the first, sorted by path. Member names match exactly
// (case-sensitive), as the AWS CLI and the wire protocols require. A pattern
// RE2 cannot run is skipped or relaxed; [Model.UncheckedPatterns] lists them.
// The document is the API input: a Data Pipeline definition file goes
// through [DefinitionToAPI] first.
func (m *Model) ValidateInput(op string, doc []byte) []Violation {
	v := &validator{m: m}
	id := m.ops[op]
	if id == "" {
		return []Violation{{Message: fmt.Sprintf("the model has no operation %q", op), Kind: KindSyntax}}
	}
	root, err := parseJSON(doc)
	if err != nil {
		return []Violation{{Message: err.Error(), Kind: KindSyntax}}
	}
	input := m.shapes[id].input
	if input == "" {
		input = "smithy.api#Unit"
	}
	v.member("", &member{target: input}, root)
	sortViolations(v.out)
	return v.out
}

type validator struct {
	m   *Model
	out []Violation
	// keyOf is set while a map key is checked as a string, so messages say
	// which part of the entry is wrong.
	keyOf bool
}

func (v *validator) add(path string, kind Kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if v.keyOf {
		msg = "map key " + msg
	}
	v.out = append(v.out, Violation{Path: path, Message: msg, Kind: kind})
}

func joinPath(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

// member checks value n of a member (or list element, map value) mem.
// Traits apply from both the member and its target shape.
func (v *validator) member(p string, mem *member, n *node) {
	s := v.m.shapes[mem.target]
	if s == nil {
		v.add(p, KindSyntax, "the model does not define shape %s", mem.target)
		return
	}
	if n.kind == jsonNull {
		v.add(p, KindType, "null is not allowed here; omit the member instead")
		return
	}
	ts := []*traits{&s.trait, &mem.trait}
	switch s.typ {
	case "structure":
		v.structure(p, s, n)
	case "union":
		v.union(p, s, n)
	case "list", "set":
		v.list(p, s, ts, n)
	case "map":
		v.mapValue(p, s, ts, n)
	case "string":
		if v.want(p, n, jsonString, "string") {
			v.str(p, ts, n.str)
			for _, t := range ts {
				if len(t.legacyEnum) > 0 && !contains(t.legacyEnum, n.str) {
					v.enumViolation(p, s, n.str, t.legacyEnum)
				}
			}
		}
	case "enum":
		if v.want(p, n, jsonString, "string (enum "+shortName(s.id)+")") {
			vals := enumValues(s)
			if !contains(vals, n.str) {
				v.enumViolation(p, s, n.str, vals)
			}
			v.str(p, ts, n.str)
		}
	case "intEnum":
		if i, ok := v.integer(p, n, 32); ok {
			vals := enumValues(s)
			if !contains(vals, i.String()) {
				v.enumViolation(p, s, i.String(), vals)
			}
		}
	case "byte", "short", "integer", "long", "bigInteger":
		bits := map[string]int{"byte": 8, "short": 16, "integer": 32, "long": 64}[s.typ]
		if i, ok := v.integer(p, n, bits); ok {
			v.rangeCheck(p, ts, new(big.Rat).SetInt(i), i.String())
		}
	case "float", "double", "bigDecimal":
		if n.kind == jsonString && s.typ != "bigDecimal" &&
			(n.str == "NaN" || n.str == "Infinity" || n.str == "-Infinity") {
			return // how Smithy's JSON protocols spell non-finite numbers
		}
		if v.want(p, n, jsonNumber, "number") {
			r, ok := new(big.Rat).SetString(n.num.String())
			if !ok {
				v.add(p, KindType, "expected a number, got %s", n.short())
				return
			}
			v.rangeCheck(p, ts, r, n.num.String())
		}
	case "boolean":
		v.want(p, n, jsonBool, "boolean")
	case "timestamp":
		v.timestamp(p, n)
	case "blob":
		if v.want(p, n, jsonString, "base64 string (blob)") {
			b, err := base64.StdEncoding.DecodeString(n.str)
			if err != nil {
				v.add(p, KindType, "expected a base64 string (blob): %v", err)
				return
			}
			v.length(p, ts, len(b), "bytes")
		}
	case "document":
		// Any JSON value.
	default:
		v.add(p, KindType, "shape %s of type %s cannot be an input value", shortName(s.id), s.typ)
	}
}

// want reports a type violation unless n is of kind k.
func (v *validator) want(p string, n *node, k jsonKind, what string) bool {
	if n.kind == k {
		return true
	}
	v.add(p, KindType, "expected %s, got %s %s", what, n.kind, n.short())
	return false
}

func (v *validator) structure(p string, s *shape, n *node) bool {
	if !v.want(p, n, jsonObject, "object (structure "+shortName(s.id)+")") {
		return false
	}
	for _, d := range n.dups {
		v.add(joinPath(p, d), KindDuplicate, "member %q appears more than once", d)
	}
	for i, k := range n.keys {
		mem := s.members[k]
		if mem == nil {
			v.add(joinPath(p, k), KindUnknownMember, "unknown member %q of %s%s", k, shortName(s.id), suggest(k, s))
			continue
		}
		v.member(joinPath(p, k), mem, n.vals[i])
	}
	if s.typ == "structure" {
		for name, mem := range s.members {
			if mem.trait.required && n.get(name) == nil {
				v.add(joinPath(p, name), KindRequired, "missing required member %q of %s", name, shortName(s.id))
			}
		}
	}
	return true
}

func (v *validator) union(p string, s *shape, n *node) {
	if !v.structure(p, s, n) {
		return
	}
	var set []string
	for i, k := range n.keys {
		if s.members[k] != nil && n.vals[i].kind != jsonNull {
			set = append(set, k)
		}
	}
	if len(set) != 1 {
		v.add(p, KindUnion, "union %s must have exactly one member set, has %d %v", shortName(s.id), len(set), set)
	}
}

func (v *validator) list(p string, s *shape, ts []*traits, n *node) {
	if !v.want(p, n, jsonArray, "array (list "+shortName(s.id)+")") {
		return
	}
	v.length(p, ts, len(n.elems), "elements")
	unique := s.typ == "set" || s.trait.uniqueItems
	seen := map[string]int{}
	for i, e := range n.elems {
		ep := p + "[" + strconv.Itoa(i) + "]"
		if e.kind == jsonNull && s.trait.sparse {
			continue
		}
		v.member(ep, s.member, e)
		if unique {
			c := canonical(e)
			if j, ok := seen[c]; ok {
				v.add(ep, KindDuplicate, "repeats element %d; list %s must have unique items", j, shortName(s.id))
			}
			seen[c] = i
		}
	}
}

func (v *validator) mapValue(p string, s *shape, ts []*traits, n *node) {
	if !v.want(p, n, jsonObject, "object (map "+shortName(s.id)+")") {
		return
	}
	v.length(p, ts, len(n.keys), "entries")
	for _, d := range n.dups {
		v.add(p+"["+strconv.Quote(d)+"]", KindDuplicate, "key %q appears more than once", d)
	}
	for i, k := range n.keys {
		ep := p + "[" + strconv.Quote(k) + "]"
		v.keyOf = true
		v.member(ep, s.key, &node{kind: jsonString, str: k})
		v.keyOf = false
		if n.vals[i].kind == jsonNull && s.trait.sparse {
			continue
		}
		v.member(ep, s.value, n.vals[i])
	}
}

// str applies the length (in characters, as Smithy counts them: Unicode
// code points) and pattern traits to a string.
func (v *validator) str(p string, ts []*traits, s string) {
	v.length(p, ts, utf8.RuneCountInString(s), "characters")
	for _, t := range ts {
		if t.pattern == "" {
			continue
		}
		pc := v.m.patterns[t.pattern]
		if pc == nil || pc.err != nil {
			continue // listed by UncheckedPatterns
		}
		if !pc.re.MatchString(s) {
			how := ""
			if pc.relaxed {
				how = " (even without its lookaround assertions)"
			}
			v.add(p, KindPattern, "%s does not match the pattern %s%s", (&node{kind: jsonString, str: s}).short(), t.pattern, how)
		}
	}
}

func (v *validator) length(p string, ts []*traits, n int, unit string) {
	for _, t := range ts {
		if t.length == nil {
			continue
		}
		r := new(big.Rat).SetInt64(int64(n))
		if t.length.min != nil && r.Cmp(t.length.min) < 0 {
			v.add(p, KindLength, "has %s; the minimum is %s", plural(n, unit), t.length.minText)
		}
		if t.length.max != nil && r.Cmp(t.length.max) > 0 {
			v.add(p, KindLength, "has %s; the maximum is %s", plural(n, unit), t.length.maxText)
		}
	}
}

func (v *validator) rangeCheck(p string, ts []*traits, r *big.Rat, text string) {
	for _, t := range ts {
		if t.rng == nil {
			continue
		}
		if t.rng.min != nil && r.Cmp(t.rng.min) < 0 {
			v.add(p, KindRange, "%s is below the minimum %s", text, t.rng.minText)
		}
		if t.rng.max != nil && r.Cmp(t.rng.max) > 0 {
			v.add(p, KindRange, "%s is above the maximum %s", text, t.rng.maxText)
		}
	}
}

// plural writes "1 character", "2 characters"; unit is given plural.
func plural(n int, unit string) string {
	if n == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	return strconv.Itoa(n) + " " + unit
}

// integer checks that n is a whole number written as one (1.0 and 1e3 are
// floats to botocore and to the JSON decoders of the SDKs) and that it fits
// the type's bits (0: unbounded).
func (v *validator) integer(p string, n *node, bits int) (*big.Int, bool) {
	if !v.want(p, n, jsonNumber, "integer") {
		return nil, false
	}
	i, ok := new(big.Int).SetString(n.num.String(), 10)
	if !ok {
		v.add(p, KindType, "expected integer, got number %s", n.num)
		return nil, false
	}
	if bits > 0 {
		lim := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		if i.Cmp(new(big.Int).Neg(lim)) < 0 || i.Cmp(lim) >= 0 {
			v.add(p, KindType, "%s does not fit a %d-bit integer", i, bits)
			return nil, false
		}
	}
	return i, true
}

// timestamp accepts what the CLI and the SDKs accept in an input document:
// epoch seconds as a number, or a date string (RFC 3339, or an HTTP date).
// The timestampFormat trait only fixes the wire form the SDK then sends.
func (v *validator) timestamp(p string, n *node) {
	switch n.kind {
	case jsonNumber:
		return
	case jsonString:
		if _, err := time.Parse(time.RFC3339Nano, n.str); err == nil {
			return
		}
		if _, err := time.Parse(http.TimeFormat, n.str); err == nil {
			return
		}
	}
	v.add(p, KindType, "expected a timestamp (epoch seconds, or an RFC 3339 date-time string), got %s %s", n.kind, n.short())
}

func (v *validator) enumViolation(p string, s *shape, got string, vals []string) {
	sorted := append([]string(nil), vals...)
	sort.Strings(sorted)
	hint := ""
	if best := closest(got, sorted); best != "" {
		hint = fmt.Sprintf("; did you mean %q?", best)
	}
	list := sorted
	more := ""
	if len(list) > 12 {
		list, more = list[:12], fmt.Sprintf(", … (%d in all)", len(sorted))
	}
	v.add(p, KindEnum, "%q is not a value of %s%s (values: %s%s)", got, shortName(s.id), hint, strings.Join(list, ", "), more)
}

// enumValues lists an enum's or intEnum's wire values: the enumValue trait,
// or the member name where an enum member has none.
func enumValues(s *shape) []string {
	out := make([]string, 0, len(s.members))
	for name, mem := range s.members {
		if len(mem.trait.enumValue) == 0 {
			out = append(out, name)
			continue
		}
		var str string
		if err := json.Unmarshal(mem.trait.enumValue, &str); err == nil {
			out = append(out, str)
		} else {
			out = append(out, strings.TrimSpace(string(mem.trait.enumValue)))
		}
	}
	return out
}

// suggest proposes the member a misspelt name probably meant.
func suggest(name string, s *shape) string {
	names := make([]string, 0, len(s.members))
	for n := range s.members {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf("; did you mean %q? (member names are case-sensitive)", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if best := closest(name, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// closest returns the candidate nearest to s (ignoring case), if it is near
// enough to be a plausible typo: a third of the letters at most.
func closest(s string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := levenshtein.Distance(strings.ToLower(s), strings.ToLower(c), nil)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(1, len(s)/3) || bestD >= len(s) {
		return ""
	}
	return best
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonical renders a node with sorted keys, to compare list items.
func canonical(n *node) string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		switch n.kind {
		case jsonArray:
			b.WriteByte('[')
			for _, e := range n.elems {
				walk(e)
				b.WriteByte(',')
			}
			b.WriteByte(']')
		case jsonObject:
			idx := make([]int, len(n.keys))
			for i := range idx {
				idx[i] = i
			}
			sort.Slice(idx, func(a, c int) bool { return n.keys[idx[a]] < n.keys[idx[c]] })
			b.WriteByte('{')
			for _, i := range idx {
				b.WriteString(strconv.Quote(n.keys[i]) + ":")
				walk(n.vals[i])
				b.WriteByte(',')
			}
			b.WriteByte('}')
		case jsonString:
			b.WriteString(strconv.Quote(n.str))
		default:
			b.WriteString(n.short())
		}
	}
	walk(n)
	return b.String()
}

// sortViolations orders by path, reading runs of digits as numbers so that
// items[2] comes before items[10], then by message.
func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if c := naturalCompare(vs[i].Path, vs[j].Path); c != 0 {
			return c < 0
		}
		return vs[i].Message < vs[j].Message
	})
}

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
