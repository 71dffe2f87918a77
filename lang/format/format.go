package format

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Source formats one file's bytes. It first parses with hclsyntax.ParseConfig so a file
// with syntax errors is refused (returned diagnostics, nil bytes) rather than mangled;
// then hclwrite.Format. It also normalises what terraform fmt does beyond hclwrite: line
// endings to \n, trailing whitespace, exactly one trailing newline, no leading blank lines,
// at most one consecutive blank line. A file with nothing but whitespace formats to an
// empty (non-nil) slice.
//
// The diagnostics are the parser's, with filename in their ranges; when they hold an
// error the result is nil. A result is also refused, with an error diagnostic, if
// formatting would change anything but whitespace, which would be a bug here or in
// hclwrite.
func Source(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if d := checkUTF8(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	// Diagnostics come from the untouched bytes so their positions match what the
	// user's editor shows.
	_, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	in := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	// Tidying before hclwrite as well as after keeps the result a fixed point:
	// hclwrite aligns trailing comments by the byte width of everything before
	// them on the line, a multi-line block comment counting whole, so trimming a
	// comment only afterwards would shift the alignment on the next run.
	out := tidy(hclwrite.Format(tidy(in)))
	if d := verify(in, out, filename); d != nil {
		return nil, append(diags, d)
	}
	return out, diags
}

// checkUTF8 refuses bytes that are not UTF-8. HCL source must be UTF-8, yet the
// hclsyntax lexer accepts a stray byte as the start of an identifier that then
// swallows what follows, newlines included, so such a file can parse and still
// not format stably.
func checkUTF8(src []byte, filename string) *hcl.Diagnostic {
	pos := hcl.InitialPos
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 {
			end := pos
			end.Byte++
			end.Column++
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid UTF-8",
				Detail:   "The file is not valid UTF-8 text; cumulus files must be UTF-8.",
				Subject:  &hcl.Range{Filename: filename, Start: pos, End: end},
			}
		}
		i += size
		pos.Byte += size
		if r == '\n' {
			pos.Line++
			pos.Column = 1
		} else {
			pos.Column++
		}
	}
	return nil
}

// tidy applies the line-level rules hclwrite does not. It works on tokens rather
// than lines because only the whitespace between tokens, and inside comments, is
// free to change: a heredoc line with trailing spaces or a run of empty lines
// means something.
func tidy(src []byte) []byte {
	toks, _ := hclsyntax.LexConfig(src, "", hcl.InitialPos)
	out := make([]byte, 0, len(src)+1)
	prevEnd := 0
	atLineStart := true // nothing but indentation written on the current line yet
	started := false    // something other than blank lines has been written
	pendingBlank := false
	for _, t := range toks {
		gap := src[prevEnd:t.Range.Start.Byte]
		prevEnd = t.Range.End.Byte
		switch t.Type {
		case hclsyntax.TokenEOF:
			// The gap here is trailing whitespace, and pending blank lines are
			// trailing blank lines: both go.
		case hclsyntax.TokenNewline:
			if atLineStart {
				// Leading blank lines are dropped outright; later ones are
				// only remembered so a run of them becomes one.
				pendingBlank = started
				continue
			}
			out = append(out, '\n')
			atLineStart = true
		default:
			if pendingBlank {
				out = append(out, '\n')
				pendingBlank = false
			}
			out = append(out, gap...)
			b := t.Bytes
			if t.Type == hclsyntax.TokenComment {
				b = trimCommentLines(b)
			}
			out = append(out, b...)
			started = true
			// A line comment swallows its newline, so the next line starts here.
			atLineStart = t.Type == hclsyntax.TokenComment && bytes.HasSuffix(b, []byte("\n"))
		}
	}
	if started && !atLineStart {
		out = append(out, '\n')
	}
	return out
}

// trimCommentLines strips trailing blanks from every line of a comment. Comments
// carry no meaning, so this is always safe, and hclwrite leaves them alone
// because to it a comment is one opaque token.
func trimCommentLines(c []byte) []byte {
	lines := bytes.SplitAfter(c, []byte("\n"))
	out := make([]byte, 0, len(c))
	for _, l := range lines {
		nl := bytes.HasSuffix(l, []byte("\n"))
		// A lone \r counts as a blank: left before a newline that tidy adds
		// at the end of the file, it would make a CRLF the next run removes.
		l = bytes.TrimRight(l, " \t\r\n")
		out = append(out, l...)
		if nl {
			out = append(out, '\n')
		}
	}
	return out
}

// verify refuses a result whose tokens differ from its input's, modulo the
// whitespace this package means to change. hclwrite works on raw tokens without
// re-checking its output, and it can, for instance, glue "1 .5" into the single
// number "1.5"; catching such cases here is what lets fmt run unattended.
func verify(in, out []byte, filename string) *hcl.Diagnostic {
	a := significant(in, filename)
	b := significant(out, filename)
	for i := range a {
		if i >= len(b) || !a[i].same(b[i]) {
			return unsafeDiag(a[i].rng)
		}
	}
	if len(b) > len(a) {
		return unsafeDiag(hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos})
	}
	if _, diags := hclsyntax.ParseConfig(out, filename, hcl.InitialPos); diags.HasErrors() {
		return unsafeDiag(hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos})
	}
	return nil
}

func unsafeDiag(rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cannot format file safely",
		Detail:   "Formatting would change this file by more than whitespace, so it is left as it is. This is a bug in the formatter; please report it with the file attached.",
		Subject:  &rng,
	}
}

// sigToken is a token as far as meaning goes.
type sigToken struct {
	typ   hclsyntax.TokenType
	bytes []byte
	// gap is the whitespace before the token when it sits in the literal part of
	// a template, where whitespace is content; elsewhere it is nil.
	gap []byte
	rng hcl.Range
}

func (t sigToken) same(u sigToken) bool {
	return t.typ == u.typ && bytes.Equal(t.bytes, u.bytes) && bytes.Equal(t.gap, u.gap)
}

// significant lexes src into the tokens that must survive formatting: blank lines,
// trailing newlines and trailing blanks in comments are dropped, because tidy
// removes them on purpose.
func significant(src []byte, filename string) []sigToken {
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	var out []sigToken
	lineEnded := true
	// templates tracks nesting so gaps inside template literals are compared:
	// true for a template's literal part, false for a ${ } or %{ } inside it.
	var templates []bool
	prevEnd := 0
	for _, t := range toks {
		gap := src[prevEnd:t.Range.Start.Byte]
		prevEnd = t.Range.End.Byte
		s := sigToken{typ: t.Type, bytes: t.Bytes, rng: t.Range}
		if len(templates) > 0 && templates[len(templates)-1] {
			s.gap = gap
			if s.gap == nil {
				s.gap = []byte{}
			}
		}
		switch t.Type {
		case hclsyntax.TokenEOF:
			continue
		case hclsyntax.TokenNewline:
			if lineEnded {
				continue
			}
			lineEnded = true
		case hclsyntax.TokenComment:
			lineEnded = bytes.HasSuffix(t.Bytes, []byte("\n"))
			s.bytes = bytes.TrimRight(trimCommentLines(t.Bytes), "\n")
		case hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			templates = append(templates, true)
			lineEnded = false
		case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			templates = append(templates, false)
			lineEnded = false
		case hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if len(templates) > 0 {
				templates = templates[:len(templates)-1]
			}
			lineEnded = false
		default:
			lineEnded = false
		}
		out = append(out, s)
	}
	// The newline ending the last line is one tidy may have added.
	for len(out) > 0 && out[len(out)-1].typ == hclsyntax.TokenNewline {
		out = out[:len(out)-1]
	}
	return out
}
