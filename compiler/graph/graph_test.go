package graph

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

func build(t *testing.T, src string) *Graph {
	t.Helper()
	cfg, diags := lang.LoadSources("g", map[string][]byte{"main.cumulus.hcl": []byte(src)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := Build(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

func TestStepOrderRespectsEdges(t *testing.T) {
	g := build(t, `
bucket "s" { kind = "private" }
pipeline "p" {
  step "archive" {
    uses  = stdlib.move_granule
    after = [step.qc, step.browse]
  }
  step "qc" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
  step "sync" {
    uses = stdlib.sync_granule
  }
  step "browse" {
    uses  = stdlib.checksum
    after = [step.sync]
  }
}
`)
	var order []string
	for _, s := range g.Pipeline("p").Steps {
		order = append(order, s.Name)
	}
	// sync first; qc before browse (declaration order among the ready); archive last.
	if want := []string{"sync", "qc", "browse", "archive"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	if task := g.Pipeline("p").Step("qc").Task; task != g.Pipeline("p").Step("browse").Task {
		t.Error("two uses of one standard step should share its platform task")
	}
}

func TestValues(t *testing.T) {
	g := build(t, `
variable "stage" {
  default = "dev"
}
bucket "s" { kind = "private" }
task "t" {
  runs_on = "ecs"
  image   = "x/y:1"
}
pipeline "p" {
  step "a" {
    task = task.t
    env = {
      STATIC   = "plain"
      NUMBER   = 3
      TEMPLATE = "${var.stage}/${granule.year}/${granule.id}.nc"
      BARE     = granule.id
      EXPR     = upper(granule.collection)
    }
    when = granule.collection == "c"
  }
}
`)
	env := map[string]Value{}
	for _, b := range g.Pipeline("p").Step("a").Env {
		env[b.Name] = b.Value
	}
	if v := env["STATIC"]; !v.IsStatic() || v.StaticString() != "plain" {
		t.Errorf("STATIC = %+v", v)
	}
	if v := env["NUMBER"]; v.StaticString() != "3" {
		t.Errorf("NUMBER should become the string 3: %+v", v)
	}
	tmpl := env["TEMPLATE"].Template(func(r string) string { return "<" + r + ">" })
	if tmpl != "dev/<granule.year>/<granule.id>.nc" {
		t.Errorf("TEMPLATE = %q (var.stage evaluated now, granule refs kept)", tmpl)
	}
	if v := env["BARE"]; len(v.Parts) != 1 || v.Parts[0].Ref != "granule.id" {
		t.Errorf("BARE = %+v", v)
	}
	if v := env["EXPR"]; v.Expr != "upper(granule.collection)" || !reflect.DeepEqual(v.Refs, []string{"granule.collection"}) {
		t.Errorf("EXPR = %+v", v)
	}
	if w := g.Pipeline("p").Step("a").When; w == nil || w.Expr != `granule.collection == "c"` {
		t.Errorf("when = %+v", w)
	}
}

func TestGraphJSONRoundTrip(t *testing.T) {
	g := build(t, `
bucket "s" { kind = "private" }
pipeline "p" {
  step "sync" {
    uses        = stdlib.sync_granule
    retries     = 2
    retry_delay = "90s"
  }
}
`)
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var back Graph
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s := back.Pipelines[0].Steps[0]
	if s.RetryDelay.Seconds() != 90 || s.TaskName != "stdlib-sync_granule" || !strings.Contains(string(b), `"retry_delay":"1m30s"`) {
		t.Errorf("round trip lost the step: %+v\n%s", s, b)
	}
}

func TestDOTEscapes(t *testing.T) {
	var b strings.Builder
	WriteDOT(&b, []*Pipeline{{Name: `a"b`, Steps: []*Step{{Name: `x\y`, TaskName: "t", Task: &Task{RunsOn: "ecs"}}}}})
	if !strings.Contains(b.String(), `"cluster_a\"b"`) || !strings.Contains(b.String(), `"a\"b.x\\y"`) {
		t.Errorf("quotes and backslashes must be escaped:\n%s", b.String())
	}
}

func TestEvalTemplateWithNumber(t *testing.T) {
	g := build(t, `
bucket "s" { kind = "private" }
collection "c" {
  version    = "1"
  granule_id = "^(G[0-9]+)"
  bucket     = bucket.s
  url_path   = "sizes/${file.size}/${granule.id}"
  file "data" {
    match = "\\.nc$"
  }
}
`)
	v, err := g.Eval(*g.Collection("c").URLPath, stdlib.Granule{ID: "G1"}, &stdlib.File{Name: "G1.nc", Size: 2048})
	if err != nil || v.AsString() != "sizes/2048/G1" {
		t.Errorf("Eval = %v, %v", v, err)
	}
}

func TestDecode(t *testing.T) {
	g := build(t, `
bucket "s" { kind = "private" }
pipeline "p" {
  step "sync" { uses = stdlib.sync_granule }
  step "meta" {
    uses  = stdlib.cmr_metadata
    after = [step.sync]
    when  = granule.collection == "x"
  }
}
`)
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(b) {
		t.Errorf("graph.json changed through Decode:\n%s\n%s", b, again)
	}
	for _, s := range back.Pipelines[0].Steps {
		if s.Task == nil || s.Task.Name != s.TaskName {
			t.Errorf("step %s not linked to its task: %+v", s.Name, s.Task)
		}
	}
	for _, bad := range []string{``, `{}`, `{"prefix":"x","pipelines":[{"name":"p","steps":[{"name":"s","task_name":"nope"}]}]}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}
