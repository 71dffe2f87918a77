package awsmodel

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// patternCheck is one pattern trait made ready for Go's regexp package.
type patternCheck struct {
	re *regexp.Regexp
	// relaxed: re is the pattern with its lookaround assertions removed.
	relaxed bool
	// err: the pattern is not checked at all.
	err error
}

// compilePattern translates a Smithy pattern (ECMA-262 syntax, read in
// Unicode mode, which is how Smithy's own tooling and the AWS models use it:
// \p{L}, surrogate pairs as one code point) into RE2 syntax, and compiles it.
// Smithy patterns are not implicitly anchored, and neither is
// Regexp.MatchString, so anchors carry over unchanged.
func compilePattern(p string) *patternCheck {
	src, relaxed, err := ecmaToRE2(p)
	if err != nil {
		return &patternCheck{err: err}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return &patternCheck{err: err}
	}
	return &patternCheck{re: re, relaxed: relaxed}
}

// ECMA-262's \s: wider than RE2's ASCII-only \s.
const ecmaSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// ECMA-262's '.' stops at every line terminator, RE2's only at \n.
const ecmaDot = `[^\n\r\x{2028}\x{2029}]`

// javaPOSIX maps the Java \p{...} class names that AWS models inherit from
// their Java origins (\p{Print} in DynamoDB) to RE2's ASCII classes, which
// mean the same thing as Java's defaults.
var javaPOSIX = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit",
	"Alnum": "alnum", "Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank",
	"Cntrl": "cntrl", "XDigit": "xdigit", "Space": "space",
}

// ecmaToRE2 rewrites the ECMA-262 constructs RE2 lacks or reads differently.
// Lookaround groups are removed (relaxed = true): the result accepts a
// superset of what the original does, so a failed match is still a real
// violation. Back-references and anything else RE2 rejects surface as
// compile errors, and the pattern is then skipped.
func ecmaToRE2(p string) (out string, relaxed bool, err error) {
	var b strings.Builder
	rs := []rune(p)
	inClass := false
	classStart := false // just after '[' or '[^'
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if inClass && classStart {
			classStart = false
			if c == ']' {
				// ECMA: [] matches nothing and [^] matches anything; RE2
				// would read the ']' as a literal.
				prev := b.String()
				b.Reset()
				if strings.HasSuffix(prev, "[^") {
					b.WriteString(prev[:len(prev)-2] + `[\x00-\x{10FFFF}]`)
				} else {
					b.WriteString(prev[:len(prev)-1] + `[^\x00-\x{10FFFF}]`)
				}
				inClass = false
				continue
			}
		}
		switch {
		case c == '\\':
			if i+1 >= len(rs) {
				return "", false, fmt.Errorf("trailing backslash")
			}
			n, consumed, e := translateEscape(rs[i+1:], inClass)
			if e != nil {
				return "", false, e
			}
			b.WriteString(n)
			i += consumed
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '[' {
				// A literal in ECMA; RE2 would start a [:posix:] class.
				b.WriteString(`\[`)
				continue
			}
			b.WriteRune(c)
		case c == '[':
			inClass, classStart = true, true
			b.WriteRune(c)
			if i+1 < len(rs) && rs[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
		case c == '.':
			b.WriteString(ecmaDot)
		case c == '(' && isLookaround(rs[i:]):
			end, e := groupEnd(rs, i)
			if e != nil {
				return "", false, e
			}
			relaxed = true
			i = end
		default:
			b.WriteRune(c)
		}
	}
	if inClass {
		return "", false, fmt.Errorf("unterminated character class")
	}
	return b.String(), relaxed, nil
}

func isLookaround(rs []rune) bool {
	s := string(rs[:min(len(rs), 4)])
	return strings.HasPrefix(s, "(?=") || strings.HasPrefix(s, "(?!") ||
		strings.HasPrefix(s, "(?<=") || strings.HasPrefix(s, "(?<!")
}

// groupEnd returns the index of the ')' closing the group opened at start,
// skipping escapes and character classes.
func groupEnd(rs []rune, start int) (int, error) {
	depth, inClass := 0, false
	for i := start; i < len(rs); i++ {
		switch c := rs[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parenthesis")
}

// translateEscape handles the escape whose body starts at rs[0] (the
// character after the backslash). It returns RE2 text and how many runes of
// rs it used.
func translateEscape(rs []rune, inClass bool) (string, int, error) {
	switch c := rs[0]; c {
	case 'u':
		r, n, ok := readUnicodeEscape(rs)
		if !ok {
			return "", 0, fmt.Errorf(`bad \u escape`)
		}
		// A \uHigh\uLow surrogate pair is one code point in Unicode mode
		// (and in Java, where these AWS patterns come from).
		if utf16.IsSurrogate(r) && n < len(rs) && n+1 < len(rs) && rs[n] == '\\' && rs[n+1] == 'u' {
			if r2, n2, ok := readUnicodeEscape(rs[n+1:]); ok {
				if d := utf16.DecodeRune(r, r2); d != '\uFFFD' {
					return fmt.Sprintf(`\x{%X}`, d), n + 1 + n2, nil
				}
			}
		}
		return fmt.Sprintf(`\x{%X}`, r), n, nil
	case 's':
		if inClass {
			return ecmaSpace, 1, nil
		}
		return "[" + ecmaSpace + "]", 1, nil
	case 'S':
		if inClass {
			// RE2 cannot nest a negated class inside a class; its own \S
			// differs from ECMA's only for Unicode spaces.
			return `\S`, 1, nil
		}
		return "[^" + ecmaSpace + "]", 1, nil
	case 'p', 'P':
		if len(rs) > 2 && rs[1] == '{' {
			end := indexRune(rs, '}')
			if end < 0 {
				return "", 0, fmt.Errorf(`unterminated \%c{`, c)
			}
			name := string(rs[2:end])
			if posix, ok := javaPOSIX[name]; ok {
				neg := ""
				if c == 'P' {
					neg = "^"
				}
				cls := "[:" + neg + posix + ":]"
				if !inClass {
					cls = "[" + cls + "]"
				}
				return cls, end + 1, nil
			}
			return `\` + string(rs[:end+1]), end + 1, nil
		}
	case '0':
		return `\x00`, 1, nil
	case 'c':
		if len(rs) > 1 && (rs[1]|0x20) >= 'a' && (rs[1]|0x20) <= 'z' {
			return fmt.Sprintf(`\x%02X`, rs[1]%32), 2, nil
		}
	case '/':
		// Escaped only because ECMA literals are /…/-delimited.
		return "/", 1, nil
	}
	return `\` + string(rs[0]), 1, nil
}

// readUnicodeEscape reads uXXXX or u{X…} at rs[0].
func readUnicodeEscape(rs []rune) (rune, int, bool) {
	if len(rs) >= 3 && rs[1] == '{' {
		end := indexRune(rs, '}')
		if end < 0 {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(string(rs[2:end]), 16, 32)
		return rune(v), end + 1, err == nil
	}
	if len(rs) < 5 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(rs[1:5]), 16, 32)
	return rune(v), 5, err == nil
}

func indexRune(rs []rune, r rune) int {
	for i, c := range rs {
		if c == r {
			return i
		}
	}
	return -1
}
