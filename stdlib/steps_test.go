package stdlib

import (
	"sort"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func TestCatalogueConsistency(t *testing.T) {
	raw := catalogue()
	if !sort.SliceIsSorted(raw, func(i, j int) bool { return raw[i].Name < raw[j].Name }) {
		t.Error("catalogue() is not in name order")
	}
	steps := Steps()
	if len(steps) != len(raw) {
		t.Fatalf("Steps() has %d steps, catalogue %d", len(steps), len(raw))
	}
	seen := map[string]bool{}
	for _, s := range steps {
		if seen[s.Name] {
			t.Errorf("step %q appears twice", s.Name)
		}
		seen[s.Name] = true
		if s.Summary == "" {
			t.Errorf("%s: no summary", s.Name)
		}
		switch s.RunsOn {
		case "lambda":
			// Lambda's own limits: the checker would refuse a user's task outside them.
			if s.Memory < 128 || s.Memory > 10240 {
				t.Errorf("%s: memory %d MB is outside Lambda's 128–10240", s.Name, s.Memory)
			}
			if s.Timeout <= 0 || s.Timeout > 900*time.Second {
				t.Errorf("%s: timeout %v is outside Lambda's 900 s", s.Name, s.Timeout)
			}
		case "ecs":
			if s.Memory < 512 || s.Timeout <= 0 {
				t.Errorf("%s: memory %d, timeout %v", s.Name, s.Memory, s.Timeout)
			}
		default:
			t.Errorf("%s: RunsOn %q, want lambda or ecs", s.Name, s.RunsOn)
		}

		if !sort.SliceIsSorted(s.Inputs, func(i, j int) bool { return s.Inputs[i].Name < s.Inputs[j].Name }) {
			t.Errorf("%s: inputs are not sorted by name", s.Name)
		}
		if !sort.SliceIsSorted(s.Outputs, func(i, j int) bool { return s.Outputs[i].Name < s.Outputs[j].Name }) {
			t.Errorf("%s: outputs are not sorted by name", s.Name)
		}
		names := map[string]bool{}
		for _, in := range s.Inputs {
			if names[in.Name] {
				t.Errorf("%s: input %q twice", s.Name, in.Name)
			}
			names[in.Name] = true
			if in.Doc == "" {
				t.Errorf("%s.%s: no Doc", s.Name, in.Name)
			}
			if in.Type == cty.NilType {
				t.Errorf("%s.%s: no Type", s.Name, in.Name)
			}
			switch {
			case in.Required && in.Default != cty.NilVal:
				t.Errorf("%s.%s: required, yet has a default", s.Name, in.Name)
			case !in.Required && in.Default == cty.NilVal:
				t.Errorf("%s.%s: neither required nor defaulted", s.Name, in.Name)
			case !in.Required && !in.Default.Type().Equals(in.Type):
				t.Errorf("%s.%s: default of type %s, input of type %s", s.Name, in.Name, in.Default.Type().FriendlyName(), in.Type.FriendlyName())
			}
			if in.Enum != nil {
				if in.Type != cty.String {
					t.Errorf("%s.%s: enum on a %s input", s.Name, in.Name, in.Type.FriendlyName())
				}
				if len(in.Enum) == 0 {
					t.Errorf("%s.%s: empty enum", s.Name, in.Name)
				}
				if !in.Required && !in.Default.IsNull() && !contains(in.Enum, in.Default.AsString()) {
					t.Errorf("%s.%s: default %q is not in its enum %v", s.Name, in.Name, in.Default.AsString(), in.Enum)
				}
			}
		}
		for _, out := range s.Outputs {
			if out.Doc == "" || out.Type == cty.NilType {
				t.Errorf("%s output %q: missing Doc or Type", s.Name, out.Name)
			}
		}
	}
	for _, name := range []string{"sync_granule", "checksum", "cmr_metadata", "move_granule"} {
		if !seen[name] {
			t.Errorf("the catalogue lacks %q", name)
		}
	}
}

func TestStepLookup(t *testing.T) {
	names := StepNames()
	if !sort.StringsAreSorted(names) {
		t.Errorf("StepNames() = %v, not sorted", names)
	}
	for _, name := range names {
		s, ok := LookupStep(name)
		if !ok || s.Name != name {
			t.Errorf("LookupStep(%q) = %v, %v", name, s, ok)
		}
	}
	if _, ok := LookupStep("sync_granules"); ok {
		t.Error(`LookupStep("sync_granules") found something`)
	}

	sync, _ := LookupStep("sync_granule")
	if sync.RunsOn != "ecs" {
		t.Errorf("sync_granule runs on %q", sync.RunsOn)
	}
	in, ok := sync.Input("duplicates")
	if !ok || !in.Default.IsNull() || in.Default.Type() != cty.String {
		t.Errorf("sync_granule.duplicates = %#v, %v; want a null string default (from the collection)", in, ok)
	}
	if _, ok := sync.Input("nope"); ok {
		t.Error(`Input("nope") found something`)
	}
	if got := sync.InputNames(); len(got) != 2 || got[0] != "checksum" || got[1] != "duplicates" {
		t.Errorf("sync_granule.InputNames() = %v", got)
	}
	cmr, _ := LookupStep("cmr_metadata")
	if in, _ := cmr.Input("cmr_environment"); in == nil || in.Default.AsString() != "UAT" {
		t.Errorf("cmr_metadata.cmr_environment = %#v", in)
	}

	// Fresh values: changing one caller's copy changes no one else's.
	sync.Inputs[0].Name = "changed"
	sync.Inputs[1].Enum[0] = "changed"
	again, _ := LookupStep("sync_granule")
	if again.Inputs[0].Name != "checksum" || again.Inputs[1].Enum[0] != "skip" {
		t.Error("LookupStep returned shared values")
	}
	all := Steps()
	all[0] = nil
	if Steps()[0] == nil {
		t.Error("Steps returned a shared slice")
	}
}
