package datapipeline

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Data Pipeline's limits on a definition (the service's documented account
// limits; only the first can be raised, by asking AWS).
const (
	MaxObjects     = 100
	MaxFields      = 50    // per object; each element of a list counts
	MaxFieldBytes  = 10240 // per field value, in UTF-8 bytes
	MaxNameBytes   = 256   // per field name or identifier
	MaxObjectBytes = 15360 // per object, field names included
)

// checkLimits reports what PutPipelineDefinition or activation would
// refuse. There is no documented limit on the whole definition beyond
// these: at most 100 objects of at most 15,360 bytes each.
func (b *builder) checkLimits(def *Definition) {
	if n := len(def.Objects); n > MaxObjects {
		b.limit(b.p.Range, "Too many objects for Data Pipeline",
			"The Data Pipeline definition of pipeline %q has %d objects (one per step, plus Default, Worker and the failure alarm), but Data Pipeline allows %d per pipeline unless AWS has raised the account's limit. Split the pipeline, ask AWS for a higher limit, or deploy with orchestrator = \"stepfunctions\".",
			b.p.Name, n, MaxObjects)
	}
	for _, o := range def.Objects {
		b.checkObject(o)
	}
}

func (b *builder) checkObject(o *Object) {
	rng, what, fix := b.p.Range, fmt.Sprintf("object %s of pipeline %q", o.ID, b.p.Name), "Shorten the pipeline's names or settings."
	if strings.HasPrefix(o.ID, StepIDPre) {
		if s := b.p.Step(strings.TrimPrefix(o.ID, StepIDPre)); s != nil {
			rng = s.Range
			what = fmt.Sprintf("step %q", s.Name)
			fix = "The command grows with the step's env, with and when; shorten their values, or pass large ones through S3 or SSM Parameter Store."
		}
	}
	if len(o.ID) > MaxNameBytes || len(o.Name) > MaxNameBytes {
		b.limit(rng, "Name too long for Data Pipeline",
			"Data Pipeline allows identifiers of %d bytes at most, but %s has a longer one. Shorten the step's name.", MaxNameBytes, what)
	}
	fields, size := 0, len(o.ID)+len(o.Name)
	if o.Type != "" {
		fields, size = 1, size+len("type")+len(o.Type)
	}
	for _, k := range o.keys() {
		for _, v := range fieldStrings(o.Fields[k]) {
			fields++
			size += len(k) + len(v)
			if len(v) > MaxFieldBytes {
				b.limit(rng, "Field too long for Data Pipeline",
					"The %s field of %s is %d bytes, but Data Pipeline allows %d bytes per field. %s", k, what, len(v), MaxFieldBytes, fix)
			}
			if i := invalidChar(v); i >= 0 {
				r, _ := utf8.DecodeRuneInString(v[i:])
				b.limit(rng, "Character Data Pipeline refuses",
					"The %s field of %s contains %U, a control character Data Pipeline refuses. Remove it from the step's values.", k, what, r)
			}
		}
	}
	if fields > MaxFields {
		b.limit(rng, "Too many fields for Data Pipeline",
			"The Data Pipeline object of %s has %d fields (each step in after is one), but Data Pipeline allows %d. Make the step wait for fewer steps: an intermediate step that waits for some of them carries their order.", what, fields, MaxFields)
	}
	if size > MaxObjectBytes {
		b.limit(rng, "Object too large for Data Pipeline",
			"The Data Pipeline object of %s is %d bytes, but Data Pipeline allows %d bytes per object, field names included. %s", what, size, MaxObjectBytes, fix)
	}
}

// fieldStrings is a field's values as Data Pipeline stores them: one per
// list element, a reference as the id it names.
func fieldStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case Ref:
		return []string{x.Ref}
	case []string:
		return x
	case []Ref:
		out := make([]string, len(x))
		for i, r := range x {
			out[i] = r.Ref
		}
		return out
	}
	return nil
}

// invalidChar returns the index of the first character outside the API's
// pattern for field values (printable Unicode, tab, CR and LF), or -1.
func invalidChar(s string) int {
	for i, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
			return i
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i // not UTF-8 at all
			}
		}
	}
	return -1
}
