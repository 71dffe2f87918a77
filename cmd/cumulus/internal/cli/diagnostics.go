package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// printDiagnostics writes diagnostics for people: hcl's text writer, with
// source snippets, colour only on a terminal.
func printDiagnostics(e *env, files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	w := hcl.NewDiagnosticTextWriter(e.stderr, files, e.width, e.color)
	_ = w.WriteDiagnostics(diags) // a failing stderr leaves nowhere to report it
}

// printCompact writes one "FILE:LINE:COL: severity: summary" line per
// diagnostic, the form editors and CI annotations read, with the detail
// indented below it.
func printCompact(w io.Writer, diags hcl.Diagnostics) {
	for _, d := range diags {
		pos := "cumulus"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(w, "%s: %s: %s\n", pos, severity(d.Severity), d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(w, "\t%s\n", strings.ReplaceAll(d.Detail, "\n", "\n\t"))
		}
	}
}

func severity(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

func counts(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errors++
		} else {
			warnings++
		}
	}
	return
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// jsonDiagnostic is the machine-readable form of a diagnostic, close to
// terraform validate -json so that editor integrations carry over.
type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail,omitempty"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonSnippet struct {
	// Code is the source line(s) the range covers; StartLine the first's number.
	Code      string `json:"code"`
	StartLine int    `json:"start_line"`
}

func toJSON(files map[string]*hcl.File, diags hcl.Diagnostics) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: severity(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{
				Filename: r.Filename,
				Start:    jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:      jsonPos{r.End.Line, r.End.Column, r.End.Byte},
			}
			if f := files[r.Filename]; f != nil {
				jd.Snippet = snippet(f.Bytes, *r)
			}
		}
		out = append(out, jd)
	}
	return out
}

func snippet(src []byte, r hcl.Range) *jsonSnippet {
	lines := strings.Split(string(src), "\n")
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return nil
	}
	end := min(max(r.End.Line, r.Start.Line), len(lines))
	return &jsonSnippet{Code: strings.Join(lines[r.Start.Line-1:end], "\n"), StartLine: r.Start.Line}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
