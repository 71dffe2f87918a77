package datapipeline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// This file holds every field of every object the compiler writes to the
// AWS Data Pipeline Developer Guide's field tables for the object's type:
// its "Object Invocation Fields", "Required Fields", "Required Group" and
// "Optional Fields" tables. The guide's "Runtime Fields" and "System Fields"
// are set by the service, not by a definition, so they are not allowed.
//
// The tables below are transcribed from the English pages of the guide,
//
//	https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/<page>.html
//
// read through their source, the guide's public repository
// awsdocs/aws-data-pipeline-developer-guide (doc_source/<page>.md), whose
// tables are the pages'. Do not add a field here because the compiler
// emits it: add it only when the guide documents it for that type, and say
// where.

// slot is a field's "Slot Type" in the guide's tables.
type slot int

const (
	slotString  slot = iota // String
	slotRef                 // Reference Object, e.g. "runsOn":{"ref":"myResourceId"}
	slotPeriod              // Period
	slotInteger             // Integer
	slotBoolean             // Boolean
	slotEnum                // Enumeration
)

func (s slot) String() string {
	return [...]string{"String", "Reference Object", "Period", "Integer", "Boolean", "Enumeration"}[s]
}

// fieldTable is the settable fields of one object type.
type fieldTable struct {
	page string // the guide's page, for messages
	// fields: every field of the Object Invocation, Required, Required
	// Group and Optional tables, with its slot type.
	fields map[string]slot
	// required must be set on the object or inherited (from its parent or
	// from Default); each oneOf group needs at least one of its fields.
	required []string
	oneOf    [][]string
	// notAllowed are fields the Optional table lists only to say "This
	// field is not allowed on this object".
	notAllowed []string
	// deprecated are fields the Optional table marks "Deprecated.".
	deprecated []string
	// runtime are the Runtime Fields and System Fields tables: the service
	// sets them. Kept to check that no table above lets one through.
	runtime []string
}

// runnableRuntime is the Runtime Fields table of ShellCommandActivity and
// Ec2Resource (Ec2Resource adds @failureReason), and system is the System
// Fields table of both and of SnsAlarm.
var (
	runnableRuntime = []string{
		"@activeInstances", "@actualEndTime", "@actualStartTime", "cancellationReason",
		"@cascadeFailedOn", "emrStepLog", "errorId", "errorMessage", "errorStackTrace",
		"@finishedTime", "hadoopJobLog", "@healthStatus", "@healthStatusFromInstanceId",
		"@healthStatusUpdatedTime", "hostname", "@lastDeactivatedTime",
		"@latestCompletedRunTime", "@latestRunTime", "@nextRunTime", "reportProgressTime",
		"@scheduledEndTime", "@scheduledStartTime", "@status", "@version", "@waitingOn",
	}
	system = []string{"@error", "@pipelineId", "@sphere"}
)

// fieldTables are the object types the compiler writes.
var fieldTables = map[string]*fieldTable{
	// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-object-shellcommandactivity.html
	// (doc_source/dp-object-shellcommandactivity.md at commit
	// 9e4ec580708855966528c5cb3050122a2c95228f).
	"ShellCommandActivity": {
		page: "dp-object-shellcommandactivity",
		fields: map[string]slot{
			// Object Invocation Fields
			"schedule": slotRef,
			// Required Group (one of): command, scriptUri
			"command":   slotString,
			"scriptUri": slotString,
			// Required Group (one of): runsOn, workerGroup
			"runsOn":      slotRef,
			"workerGroup": slotString,
			// Optional Fields
			"attemptStatus":         slotString,
			"attemptTimeout":        slotPeriod,
			"dependsOn":             slotRef,
			"failureAndRerunMode":   slotEnum,
			"input":                 slotRef,
			"lateAfterTimeout":      slotPeriod,
			"maxActiveInstances":    slotInteger,
			"maximumRetries":        slotInteger,
			"onFail":                slotRef,
			"onLateAction":          slotRef,
			"onSuccess":             slotRef,
			"output":                slotRef,
			"parent":                slotRef,
			"pipelineLogUri":        slotString,
			"precondition":          slotRef,
			"reportProgressTimeout": slotPeriod,
			"retryDelay":            slotPeriod,
			"scheduleType":          slotEnum,
			"scriptArgument":        slotString,
			"stage":                 slotBoolean,
			"stderr":                slotString,
			"stdout":                slotString,
		},
		oneOf:   [][]string{{"command", "scriptUri"}, {"runsOn", "workerGroup"}},
		runtime: append(append([]string(nil), runnableRuntime...), system...),
	},

	// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-object-ec2resource.html
	// (doc_source/dp-object-ec2resource.md at commit
	// 9e4ec580708855966528c5cb3050122a2c95228f).
	"Ec2Resource": {
		page: "dp-object-ec2resource",
		fields: map[string]slot{
			// Required Fields
			"resourceRole": slotString,
			"role":         slotString,
			// Object Invocation Fields
			"schedule": slotRef,
			// Optional Fields (less runsOn and workerGroup, "not allowed
			// on this object")
			"actionOnResourceFailure":  slotString,
			"actionOnTaskFailure":      slotString,
			"associatePublicIpAddress": slotBoolean,
			"attemptStatus":            slotString,
			"attemptTimeout":           slotPeriod,
			"availabilityZone":         slotString,
			"failureAndRerunMode":      slotEnum,
			"httpProxy":                slotRef,
			"imageId":                  slotString,
			"initTimeout":              slotPeriod,
			"instanceCount":            slotInteger,
			"instanceType":             slotString,
			"keyPair":                  slotString,
			"lateAfterTimeout":         slotPeriod,
			"maxActiveInstances":       slotInteger,
			"maximumRetries":           slotInteger,
			"minInstanceCount":         slotInteger,
			"onFail":                   slotRef,
			"onLateAction":             slotRef,
			"onSuccess":                slotRef,
			"parent":                   slotRef,
			"pipelineLogUri":           slotString,
			"region":                   slotEnum,
			"reportProgressTimeout":    slotPeriod,
			"retryDelay":               slotPeriod,
			"runAsUser":                slotString,
			"scheduleType":             slotEnum,
			"securityGroupIds":         slotString,
			"securityGroups":           slotString,
			"spotBidPrice":             slotString,
			"subnetId":                 slotString,
			"terminateAfter":           slotPeriod,
			"useOnDemandOnLastAttempt": slotBoolean,
		},
		required:   []string{"resourceRole", "role"},
		notAllowed: []string{"runsOn", "workerGroup"},
		deprecated: []string{"instanceCount", "minInstanceCount"},
		runtime:    append(append([]string{"@failureReason"}, runnableRuntime...), system...),
	},

	// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-object-snsalarm.html
	// (doc_source/dp-object-snsalarm.md at commit
	// 0b51ab17583640c3a2b77c460927acc5d367ba22; the English page's tables
	// are the same).
	"SnsAlarm": {
		page: "dp-object-snsalarm",
		fields: map[string]slot{
			// Required Fields
			"message":  slotString,
			"role":     slotString,
			"subject":  slotString,
			"topicArn": slotString,
			// Optional Fields
			"parent": slotRef,
		},
		required: []string{"message", "role", "subject", "topicArn"},
		// Runtime Fields: node (the object the action is for), @version.
		runtime: append([]string{"node", "@version"}, system...),
	},
}

// defaultExtra are the fields the guide's Default objects set: the
// "Schedule inherited from Default object" example of
// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-object-schedule.html
// (failureAndRerunMode, resourceRole, role, pipelineLogUri, scheduleType,
// schedule) and the on-demand Default of
// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-concepts-schedules.html
// (resourceRole, role, scheduleType).
var defaultExtra = map[string]slot{
	"scheduleType":        slotEnum,
	"failureAndRerunMode": slotEnum,
	"role":                slotString,
	"resourceRole":        slotString,
	"pipelineLogUri":      slotString,
}

// enumValues are the documented values of fields that take a fixed set.
// The guide itself writes them in more than one case (scheduleType `cron`
// and `Cron`; actionOnResourceFailure "retryall" in its table and
// "retryAll" in its example), so they compare without case.
var enumValues = map[string][]string{
	// scheduleType rows of the ShellCommandActivity and Ec2Resource tables.
	"scheduleType": {"cron", "ondemand", "timeseries"},
	// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-manage-cascade-failandrerun.html:
	// "a default value of none ... set the failureAndRerunMode field to cascade".
	"failureAndRerunMode": {"cascade", "none"},
	// Ec2Resource's table: "Valid values are "continue" or "terminate"" and
	// "Valid values are "retryall" and "retrynone"".
	"actionOnTaskFailure":     {"continue", "terminate"},
	"actionOnResourceFailure": {"retryall", "retrynone"},
}

// periodRE is the Period type of
// https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-expressions-functions.html
// ("N [years|months|weeks|days|hours|minutes]", N a positive integer); the
// guide's examples write the unit capitalized as well ("4 Hours" style,
// "1 hours", "15 minutes"), so case does not matter.
var periodRE = regexp.MustCompile(`(?i)^[1-9][0-9]* (minutes|hours|days|weeks|months|years)$`)

// singularRE: the singular forms the guide uses, "1 Hour" (terminateAfter)
// and "1 Day" (period) in the examples of dp-object-schedule.html.
var singularRE = regexp.MustCompile(`(?i)^1 (hour|day)$`)

func isPeriod(s string) bool { return periodRE.MatchString(s) || singularRE.MatchString(s) }

var integerRE = regexp.MustCompile(`^[0-9]+$`)

// checkFields returns what the guide's field tables refuse in the objects of
// a definition file (decoded as the AWS CLI reads it).
func checkFields(objects []map[string]any) []string {
	var probs []string
	bad := func(id, format string, args ...any) {
		probs = append(probs, "object "+id+": "+fmt.Sprintf(format, args...))
	}

	byID := map[string]map[string]any{}
	for i, o := range objects {
		id, ok := o["id"].(string)
		if !ok || id == "" {
			bad(fmt.Sprintf("#%d", i), "no id")
			continue
		}
		if _, dup := byID[id]; dup {
			// dp-writing-pipeline-definition: "unique within the pipeline
			// definition".
			bad(id, "id used twice")
		}
		byID[id] = o
	}
	dflt := byID[DefaultID]

	// Default's fields are inherited by every object, so it may hold what
	// any type in the pipeline documents, but nothing that a type in the
	// pipeline says is not allowed on it.
	defaultFields := map[string]slot{}
	var defaultFor []string
	types := map[string]bool{}
	for _, o := range objects {
		if t, ok := o["type"].(string); ok {
			types[t] = true
		}
	}
	for t := range types {
		if ft := fieldTables[t]; ft != nil {
			defaultFor = append(defaultFor, t)
			for k, s := range ft.fields {
				defaultFields[k] = s
			}
		}
	}
	sort.Strings(defaultFor)
	for k, s := range defaultExtra {
		defaultFields[k] = s
	}

	// has reports whether o sets k or inherits it: from the object its
	// parent names, or, without a parent, from Default
	// (dp-writing-pipeline-definition: Default's fields "are automatically
	// included in every object ... that doesn't explicitly set its parent
	// field to reference a different object").
	var has func(o map[string]any, k string, seen map[string]bool) (any, bool)
	has = func(o map[string]any, k string, seen map[string]bool) (any, bool) {
		if v, ok := o[k]; ok {
			return v, true
		}
		if p, ok := o["parent"].(map[string]any); ok {
			r, _ := p["ref"].(string)
			if po := byID[r]; po != nil && !seen[r] {
				seen[r] = true
				return has(po, k, seen)
			}
			return nil, false
		}
		if o["id"] != DefaultID && dflt != nil {
			return has(dflt, k, seen)
		}
		return nil, false
	}
	inherits := func(o map[string]any, k string) bool {
		_, ok := has(o, k, map[string]bool{})
		return ok
	}

	checkValue := func(id, k string, s slot, v any) {
		if s == slotRef {
			m, ok := v.(map[string]any)
			r, isStr := m["ref"].(string)
			if !ok || len(m) != 1 || !isStr {
				bad(id, "%s = %v: a Reference Object field takes {\"ref\": \"id\"}", k, v)
				return
			}
			if byID[r] == nil {
				bad(id, "%s refers to %q, which is no object of the definition", k, r)
			}
			return
		}
		str, ok := v.(string)
		if !ok {
			bad(id, "%s = %v: a %s field takes a string", k, v, s)
			return
		}
		switch s {
		case slotPeriod:
			if !isPeriod(str) {
				bad(id, "%s = %q is not a period (\"N minutes|hours|days|weeks|months|years\")", k, str)
			}
		case slotInteger:
			if !integerRE.MatchString(str) {
				bad(id, "%s = %q is not an integer", k, str)
			}
		case slotBoolean:
			if !strings.EqualFold(str, "true") && !strings.EqualFold(str, "false") {
				bad(id, "%s = %q is not a boolean", k, str)
			}
		}
		if vals, ok := enumValues[k]; ok {
			found := false
			for _, ev := range vals {
				found = found || strings.EqualFold(str, ev)
			}
			if !found {
				bad(id, "%s = %q is none of %v", k, str, vals)
			}
		}
	}

	for _, o := range objects {
		id, ok := o["id"].(string)
		if !ok || id == "" {
			continue
		}
		typ, hasType := o["type"]
		var ft *fieldTable
		fields := defaultFields
		where := "Default (the fields of " + strings.Join(defaultFor, ", ") + ")"
		if id == DefaultID {
			if hasType {
				bad(id, "Default has a type (%v)", typ)
			}
		} else {
			ts, _ := typ.(string)
			ft = fieldTables[ts]
			if ft == nil {
				// dp-writing-pipeline-definition: "Each pipeline object
				// must contain ... id and type".
				bad(id, "type %v has no field table here", typ)
				continue
			}
			fields = ft.fields
			where = ts + " (" + ft.page + ")"
		}

		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := o[k]
			switch k {
			case "id", "type":
				continue
			case "name":
				if _, ok := v.(string); !ok {
					bad(id, "name = %v is not a string", v)
				}
				continue
			}
			if strings.HasPrefix(k, "@") {
				bad(id, "%s is a runtime or system field; the service sets it", k)
				continue
			}
			s, ok := fields[k]
			if !ok {
				bad(id, "field %s is not documented for %s", k, where)
				continue
			}
			if ft != nil {
				for _, d := range ft.deprecated {
					if k == d {
						bad(id, "field %s is deprecated for %s", k, where)
					}
				}
			}
			vals := []any{v}
			if list, ok := v.([]any); ok {
				if len(list) == 0 {
					bad(id, "%s is an empty list", k)
				}
				vals = list
			}
			for _, e := range vals {
				checkValue(id, k, s, e)
			}
		}

		if id == DefaultID {
			for t := range types {
				if ft := fieldTables[t]; ft != nil {
					for _, na := range ft.notAllowed {
						if _, ok := o[na]; ok {
							bad(id, "Default sets %s, which every %s would inherit, and %s says it is not allowed there", na, t, ft.page)
						}
					}
				}
			}
			continue
		}

		for _, na := range ft.notAllowed {
			if inherits(o, na) {
				bad(id, "%s: %s says \"This field is not allowed on this object\"", na, ft.page)
			}
		}
		for _, r := range ft.required {
			if !inherits(o, r) {
				bad(id, "required field %s is neither set nor inherited", r)
			}
		}
		for _, group := range ft.oneOf {
			n := 0
			for _, k := range group {
				if inherits(o, k) {
					n++
				}
			}
			if n == 0 {
				bad(id, "needs one of %v", group)
			}
		}
		if ft == fieldTables["ShellCommandActivity"] {
			// The scriptUri row: "Specify only one scriptUri, or command
			// field"; the scriptArgument row: "can only be used with
			// command; Using it with scriptUri causes an error".
			if inherits(o, "command") && inherits(o, "scriptUri") {
				bad(id, "has both command and scriptUri")
			}
			if inherits(o, "scriptArgument") && inherits(o, "scriptUri") {
				bad(id, "has scriptArgument with scriptUri")
			}
		}

		// Scheduling. The scheduleType rows: an ondemand schedule must be
		// "specified in the default object and must be the only
		// scheduleType specified for objects in the pipeline". The
		// schedule rows: users "must specify a schedule reference", which
		// on-demand pipelines do without (dp-concepts-schedules: they
		// "only require the schedule type to be set to ondemand on the
		// default object").
		if _, own := o["scheduleType"]; own && dflt != nil {
			if st, _ := dflt["scheduleType"].(string); strings.EqualFold(st, "ondemand") {
				bad(id, "sets scheduleType in an on-demand pipeline; only Default may")
			}
		}
		if st, _ := o["scheduleType"].(string); strings.EqualFold(st, "ondemand") {
			bad(id, "scheduleType ondemand belongs on Default only")
		}
		if _, ok := ft.fields["schedule"]; ok {
			st, _ := has(o, "scheduleType", map[string]bool{})
			if s, _ := st.(string); !strings.EqualFold(s, "ondemand") && !inherits(o, "schedule") {
				bad(id, "is not on demand and has no schedule")
			}
		}
	}
	return probs
}

// fieldDefinitions are the definitions to check: the hs3 example's and the
// fan-out test pipeline's (definitions, in aws_test.go), and variants that
// change which objects and fields are written.
func fieldDefinitions(t *testing.T) map[string][]byte {
	t.Helper()
	out := definitions(t)
	variants := map[string][]string{
		"fanout-notify-off":     {platform, strings.Replace(fanOut, "notify = true", "notify = false", 1)},
		"fanout-no-log-bucket":  {strings.Replace(platform, `bucket "internal" { kind = "private" }`, "", 1), fanOut},
		"rounded-long-timeouts": {platform, roundedPipeline},
	}
	for name, srcs := range variants {
		_, def, diags := build(t, srcs...)
		noErrors(t, diags)
		out[name] = encode(t, def)
	}
	return out
}

// roundedPipeline has periods in days and rounded minutes, and a retried
// Lambda step.
const roundedPipeline = `
pipeline "p" {
  step "long" {
    task        = task.prep
    retries     = 1
    retry_delay = "90m"
    timeout     = "48h"
  }
  step "quick" {
    task        = task.fn
    after       = [step.long]
    retries     = 2
    retry_delay = "30s"
    timeout     = "90s"
  }
  on_failure {
    notify = true
  }
}
`

func decodeObjects(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("definition is not JSON: %v", err)
	}
	return f.Objects
}

// TestDocumentedFields holds every compiled definition to the guide's field
// tables. A failure names the field and the page: either the compiler
// writes something the guide does not document for that type (fix the
// compiler), or the guide documents it and the table above lacks it (add
// it, citing the page).
func TestDocumentedFields(t *testing.T) {
	defs := fieldDefinitions(t)
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		objects := decodeObjects(t, defs[name])
		if len(objects) == 0 {
			t.Errorf("%s: no objects", name)
		}
		for _, p := range checkFields(objects) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// TestFieldTables checks the transcription: no settable field is one the
// same page lists as set by the service, slot types agree between pages,
// and what the checks name is in the tables.
func TestFieldTables(t *testing.T) {
	seen := map[string]slot{}
	for typ, ft := range fieldTables {
		for k, s := range ft.fields {
			if strings.HasPrefix(k, "@") {
				t.Errorf("%s: %s is a runtime field", typ, k)
			}
			if prev, ok := seen[k]; ok && prev != s {
				t.Errorf("%s: %s is a %s here and a %s elsewhere", typ, k, s, prev)
			}
			seen[k] = s
		}
		for _, r := range ft.runtime {
			if _, ok := ft.fields[r]; ok {
				t.Errorf("%s: %s is a runtime or system field but allowed", typ, r)
			}
		}
		for _, k := range ft.notAllowed {
			if _, ok := ft.fields[k]; ok {
				t.Errorf("%s: %s is not allowed but in the table", typ, k)
			}
		}
		var named []string
		named = append(named, ft.required...)
		named = append(named, ft.deprecated...)
		for _, g := range ft.oneOf {
			named = append(named, g...)
		}
		for _, k := range named {
			if _, ok := ft.fields[k]; !ok {
				t.Errorf("%s: %s is checked but not in the table", typ, k)
			}
		}
	}
	for k, s := range defaultExtra {
		if prev, ok := seen[k]; ok && prev != s {
			t.Errorf("Default: %s is a %s, but a %s in the object tables", k, s, prev)
		}
	}
	for k := range enumValues {
		if _, ok := seen[k]; !ok {
			t.Errorf("enumValues: %s is in no table", k)
		}
	}

	for _, p := range []string{"1 Minutes", "2 Minutes", "15 minutes", "1 Hours", "4 Hours", "1 hours", "1 Hour", "1 Day", "1 days", "2 Days", "3 Weeks", "6 Months", "3 years"} {
		if !isPeriod(p) {
			t.Errorf("period %q refused", p)
		}
	}
	for _, p := range []string{"", "2 minutes later", "0 Minutes", "-1 Hours", "1.5 Hours", "2 Hour", "1 Minute", "90s", "1h", "Hours", "1  Hours", " 1 Hours", "1 Seconds", "#{myPeriod}"} {
		if isPeriod(p) {
			t.Errorf("period %q accepted", p)
		}
	}
}

// TestCheckFieldsBites breaks a good definition in the ways the checks are
// for, one at a time, and expects each to be refused.
func TestCheckFieldsBites(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	data := encode(t, def)
	if probs := checkFields(decodeObjects(t, data)); len(probs) > 0 {
		t.Fatalf("the good definition is refused: %v", probs)
	}

	object := func(objs []map[string]any, id string) map[string]any {
		for _, o := range objs {
			if o["id"] == id {
				return o
			}
		}
		t.Fatalf("no object %s", id)
		return nil
	}
	cases := []struct {
		name   string
		mutate func([]map[string]any) []map[string]any
		want   string
	}{
		{"unknown field", func(o []map[string]any) []map[string]any {
			object(o, "Step_a")["maxRetries"] = "3"
			return o
		}, "field maxRetries is not documented for ShellCommandActivity"},
		{"period with trailing words", func(o []map[string]any) []map[string]any {
			object(o, "Step_a")["retryDelay"] = "2 minutes later"
			return o
		}, `retryDelay = "2 minutes later" is not a period`},
		{"singular period not documented", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["terminateAfter"] = "2 Hour"
			return o
		}, `terminateAfter = "2 Hour" is not a period`},
		{"dangling ref", func(o []map[string]any) []map[string]any {
			object(o, "Step_b")["runsOn"] = map[string]any{"ref": "NoSuchWorker"}
			return o
		}, `runsOn refers to "NoSuchWorker"`},
		{"dangling ref in a list", func(o []map[string]any) []map[string]any {
			object(o, "Step_c")["dependsOn"] = []any{map[string]any{"ref": "Step_a"}, map[string]any{"ref": "Step_zz"}}
			return o
		}, `dependsOn refers to "Step_zz"`},
		{"ref written as a string", func(o []map[string]any) []map[string]any {
			object(o, "Step_b")["onFail"] = "FailureAlarm"
			return o
		}, "onFail = FailureAlarm: a Reference Object field takes"},
		{"string written as a ref", func(o []map[string]any) []map[string]any {
			object(o, "Step_b")["command"] = map[string]any{"ref": "Worker"}
			return o
		}, "command = map[ref:Worker]: a String field takes a string"},
		{"runtime field with @", func(o []map[string]any) []map[string]any {
			object(o, "Step_a")["@status"] = "FINISHED"
			return o
		}, "@status is a runtime or system field"},
		{"runtime field without @", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["errorMessage"] = "x"
			return o
		}, "field errorMessage is not documented for Ec2Resource"},
		{"SnsAlarm runtime field node", func(o []map[string]any) []map[string]any {
			object(o, "FailureAlarm")["node"] = map[string]any{"ref": "Step_a"}
			return o
		}, "field node is not documented for SnsAlarm"},
		{"field of another type", func(o []map[string]any) []map[string]any {
			object(o, "FailureAlarm")["retryDelay"] = "2 Minutes"
			return o
		}, "field retryDelay is not documented for SnsAlarm"},
		{"not allowed on Ec2Resource", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["runsOn"] = map[string]any{"ref": "Worker"}
			return o
		}, "field runsOn is not documented for Ec2Resource"},
		{"Default sets a field Ec2Resource does not allow", func(o []map[string]any) []map[string]any {
			object(o, "Default")["workerGroup"] = "wg"
			return o
		}, "Default sets workerGroup"},
		{"deprecated field", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["instanceCount"] = "1"
			return o
		}, "field instanceCount is deprecated"},
		{"unknown field on Default", func(o []map[string]any) []map[string]any {
			object(o, "Default")["maxRetries"] = "3"
			return o
		}, "field maxRetries is not documented for Default"},
		{"Default field of a type not in the pipeline", func(o []map[string]any) []map[string]any {
			var kept []map[string]any
			for _, x := range o {
				if x["id"] != AlarmID {
					delete(x, "onFail")
					kept = append(kept, x)
				}
			}
			object(kept, "Default")["topicArn"] = "arn:aws:sns:us-west-2:123456789012:alerts"
			return kept
		}, "field topicArn is not documented for Default (the fields of Ec2Resource, ShellCommandActivity)"},
		{"missing required field", func(o []map[string]any) []map[string]any {
			delete(object(o, "FailureAlarm"), "topicArn")
			return o
		}, "FailureAlarm: required field topicArn"},
		{"required field not inherited", func(o []map[string]any) []map[string]any {
			delete(object(o, "Default"), "resourceRole")
			return o
		}, "Worker: required field resourceRole"},
		{"no command nor scriptUri", func(o []map[string]any) []map[string]any {
			delete(object(o, "Step_b"), "command")
			return o
		}, "Step_b: needs one of [command scriptUri]"},
		{"no runsOn nor workerGroup", func(o []map[string]any) []map[string]any {
			delete(object(o, "Step_b"), "runsOn")
			return o
		}, "Step_b: needs one of [runsOn workerGroup]"},
		{"command and scriptUri", func(o []map[string]any) []map[string]any {
			object(o, "Step_b")["scriptUri"] = "s3://b/k.sh"
			return o
		}, "has both command and scriptUri"},
		{"not an integer", func(o []map[string]any) []map[string]any {
			object(o, "Step_a")["maximumRetries"] = "two"
			return o
		}, `maximumRetries = "two" is not an integer`},
		{"enumeration value", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["actionOnTaskFailure"] = "stop"
			return o
		}, `actionOnTaskFailure = "stop" is none of`},
		{"scheduleType outside Default", func(o []map[string]any) []map[string]any {
			object(o, "Step_a")["scheduleType"] = "ondemand"
			return o
		}, "Step_a: sets scheduleType in an on-demand pipeline"},
		{"not on demand, no schedule", func(o []map[string]any) []map[string]any {
			object(o, "Default")["scheduleType"] = "cron"
			return o
		}, "Worker: is not on demand and has no schedule"},
		{"duplicate id", func(o []map[string]any) []map[string]any {
			return append(o, map[string]any{"id": "Step_a", "name": "a2", "type": "ShellCommandActivity", "command": "true", "runsOn": map[string]any{"ref": "Worker"}})
		}, "Step_a: id used twice"},
		{"unknown type", func(o []map[string]any) []map[string]any {
			object(o, "Worker")["type"] = "EmrCluster"
			return o
		}, "type EmrCluster has no field table"},
		{"empty list", func(o []map[string]any) []map[string]any {
			object(o, "Step_c")["dependsOn"] = []any{}
			return o
		}, "dependsOn is an empty list"},
	}
	for _, c := range cases {
		probs := checkFields(c.mutate(decodeObjects(t, data)))
		found := false
		for _, p := range probs {
			found = found || strings.Contains(p, c.want)
		}
		if !found {
			t.Errorf("%s: no problem containing %q; got %q", c.name, c.want, probs)
		}
	}
}
