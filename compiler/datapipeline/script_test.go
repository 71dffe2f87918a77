package datapipeline

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// fakeAWS records each call's arguments (NUL-separated, one file per call)
// and answers as the real CLI would with --query and --output text: ECS
// starts a task that is STOPPED at the first look, exiting with $EXIT_CODE;
// Lambda copies the payload file aside and answers $FUNCTION_ERROR.
const fakeAWS = `#!/bin/sh
n=$(cat "$REC/.n" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$REC/.n"
for a in "$@"; do printf '%s\000' "$a"; done >"$REC/call$n"
case "$1 $2" in
"ecs run-task") printf 'arn:aws:ecs:us-west-2:000000000000:task/tt/abc\tNone\n' ;;
"ecs describe-tasks")
  case "$*" in
  *lastStatus*) echo STOPPED ;;
  *) printf '%s\t%s\n' "${EXIT_CODE:-0}" "Essential container in task exited" ;;
  esac ;;
"ecs stop-task") ;;
"lambda invoke")
  for a in "$@"; do
    case "$a" in fileb://*) cp "${a#fileb://}" "$REC/payload" ;; esac
    last=$a
  done
  echo '{"ok":true}' >"$last"
  echo "${FUNCTION_ERROR:-None}" ;;
*) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
`

// nasty granule values: quotes of both kinds, backslashes, what a shell
// would expand, and what Data Pipeline would take for an expression.
var runValues = map[string]string{
	"myGranuleId":         `G'1"\$(touch pwned)` + "`x`#{myGranuleYear}",
	"myGranuleCollection": "c1",
	"myGranuleYear":       "2013",
	"myGranuleDoy":        "238",
	"myStagedKeys":        `["staging/G'1.nc","staging/a\"b.nc"]`,
	"@pipelineId":         "df-0123456789ABCDEFGHIJ",
}

func init() {
	doc, _ := json.Marshal(map[string]any{
		"id":    runValues["myGranuleId"],
		"files": []map[string]any{{"name": `G'1 "x".nc`, "size": 12}},
	})
	runValues["myGranule"] = string(doc)
}

type run struct {
	calls   [][]string
	payload []byte
	out     string
	err     error
}

// runActivity runs an activity's command as Data Pipeline would: its
// scriptArgument with #{...} replaced by the parameter values, as $1...
func runActivity(t *testing.T, shell string, o map[string]any, env ...string) run {
	t.Helper()
	dir := t.TempDir()
	bin, rec := filepath.Join(dir, "bin"), filepath.Join(dir, "rec")
	for _, d := range []string{bin, rec} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	// The poll loop sleeps 15 s; the test does not.
	if err := os.WriteFile(filepath.Join(bin, "sleep"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	expr := regexp.MustCompile(`#\{(@?\w+)\}`)
	args := []string{"sh"} // $0
	for _, a := range strs(o["scriptArgument"]) {
		args = append(args, expr.ReplaceAllStringFunc(a, func(m string) string {
			v, ok := runValues[m[2:len(m)-1]]
			if !ok {
				t.Fatalf("no value for %s", m)
			}
			return v
		}))
	}
	cmd := exec.Command(shell, append([]string{"-c", o["command"].(string)}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "REC=" + rec}, env...)
	out, err := cmd.CombinedOutput()
	r := run{out: string(out), err: err}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Errorf("a granule value ran as a command")
	}
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(rec, "call"+itoa(i)))
		if err != nil {
			break
		}
		r.calls = append(r.calls, strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"))
	}
	r.payload, _ = os.ReadFile(filepath.Join(rec, "payload"))
	return r
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// arg returns the value after flag in the first call whose first words are
// cmd.
func (r run) arg(t *testing.T, cmd, flag string) string {
	t.Helper()
	for _, c := range r.calls {
		if strings.Join(c[:2], " ") != cmd {
			continue
		}
		for i, a := range c {
			if a == flag && i+1 < len(c) {
				return c[i+1]
			}
		}
	}
	t.Fatalf("no %s %s in %v", cmd, flag, r.calls)
	return ""
}

func shells(t *testing.T) []string {
	var out []string
	for _, s := range []string{"sh", "bash", "dash"} {
		if p, err := exec.LookPath(s); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skip("no POSIX shell to run the commands with")
	}
	return out
}

// TestCommandsRun runs every command against a fake AWS CLI and checks what
// reaches ECS and Lambda: valid JSON carrying every value exactly.
func TestCommandsRun(t *testing.T) {
	_, def, diags := build(t, platform, fanOut)
	noErrors(t, diags)
	f, _ := decode(t, def)
	id := runValues["myGranuleId"]
	for _, shell := range shells(t) {
		t.Run(filepath.Base(shell), func(t *testing.T) {
			// ECS, a user's task with templates, an expression and when.
			r := runActivity(t, shell, f.object(t, "Step_a"))
			if r.err != nil {
				t.Fatalf("step a: %v\n%s", r.err, r.out)
			}
			var ov struct {
				ContainerOverrides []struct {
					Name        string
					Environment []struct{ Name, Value string }
				}
			}
			if err := json.Unmarshal([]byte(r.arg(t, "ecs run-task", "--overrides")), &ov); err != nil {
				t.Fatalf("overrides are not JSON: %v", err)
			}
			if len(ov.ContainerOverrides) != 1 || ov.ContainerOverrides[0].Name != "main" {
				t.Fatalf("overrides = %+v", ov)
			}
			env := map[string]string{}
			for _, e := range ov.ContainerOverrides[0].Environment {
				env[e.Name] = e.Value
			}
			want := map[string]string{
				"ID":                     id,
				"PREFIX":                 "x/2013/" + id + "'s",
				"LEVEL":                  "2",
				"NOTE":                   "#{not.an.expression} \\ \"q\"\nline 2",
				"CUMULUS_ENV_EXPR_COUNT": "length(granule.files)",
				"CUMULUS_GRANULE":        runValues["myGranule"],
				"CUMULUS_STAGED_KEYS":    runValues["myStagedKeys"],
				"CUMULUS_PIPELINE":       "p",
				"CUMULUS_STEP":           "a",
				"CUMULUS_RUN":            "df-0123456789ABCDEFGHIJ",
				"CUMULUS_WHEN":           `granule.collection != "skip"`,
			}
			if !reflect.DeepEqual(env, want) {
				t.Errorf("environment:\n got %q\nwant %q", env, want)
			}
			var net map[string]any
			if err := json.Unmarshal([]byte(r.arg(t, "ecs run-task", "--network-configuration")), &net); err != nil {
				t.Errorf("network configuration is not JSON: %v", err)
			}
			if got := r.arg(t, "ecs describe-tasks", "--tasks"); got != "arn:aws:ecs:us-west-2:000000000000:task/tt/abc" {
				t.Errorf("describe-tasks --tasks %s", got)
			}

			// A failed container fails the step, saying why.
			r = runActivity(t, shell, f.object(t, "Step_a"), "EXIT_CODE=3")
			if r.err == nil || !strings.Contains(r.out, "failed with exit code 3: Essential container in task exited") {
				t.Errorf("exit code 3: %v\n%s", r.err, r.out)
			}

			// A standard step on ECS: its inputs as CUMULUS_WITH.
			r = runActivity(t, shell, f.object(t, "Step_sync"))
			if r.err != nil {
				t.Fatalf("step sync: %v\n%s", r.err, r.out)
			}
			if err := json.Unmarshal([]byte(r.arg(t, "ecs run-task", "--overrides")), &ov); err != nil {
				t.Fatal(err)
			}
			var with map[string]any
			for _, e := range ov.ContainerOverrides[0].Environment {
				if e.Name == "CUMULUS_WITH" {
					if err := json.Unmarshal([]byte(e.Value), &with); err != nil {
						t.Fatalf("CUMULUS_WITH %q: %v", e.Value, err)
					}
				}
			}
			if !reflect.DeepEqual(with, map[string]any{"checksum": true, "duplicates": nil}) {
				t.Errorf("CUMULUS_WITH = %v", with)
			}

			// Lambda, a user's function with env.
			r = runActivity(t, shell, f.object(t, "Step_b"))
			if r.err != nil {
				t.Fatalf("step b: %v\n%s", r.err, r.out)
			}
			var payload struct {
				Granule    map[string]any    `json:"granule"`
				StagedKeys []string          `json:"staged_keys"`
				Pipeline   string            `json:"pipeline"`
				Step       string            `json:"step"`
				Env        map[string]string `json:"env"`
				With       map[string]any    `json:"with"`
			}
			if err := json.Unmarshal(r.payload, &payload); err != nil {
				t.Fatalf("payload %s: %v", r.payload, err)
			}
			if payload.Granule["id"] != id || payload.Pipeline != "p" || payload.Step != "b" ||
				!reflect.DeepEqual(payload.Env, map[string]string{"DAY": "238"}) || len(payload.StagedKeys) != 2 || payload.With != nil {
				t.Errorf("payload = %+v", payload)
			}
			if !strings.Contains(r.out, `{"ok":true}`) {
				t.Errorf("the function's answer is not in the log:\n%s", r.out)
			}

			// A standard step on Lambda: its inputs as with.
			r = runActivity(t, shell, f.object(t, "Step_c"))
			if r.err != nil {
				t.Fatalf("step c: %v\n%s", r.err, r.out)
			}
			payload.With = nil
			if err := json.Unmarshal(r.payload, &payload); err != nil {
				t.Fatalf("payload %s: %v", r.payload, err)
			}
			if !reflect.DeepEqual(payload.With, map[string]any{"duplicates": "replace"}) {
				t.Errorf("with = %v", payload.With)
			}

			// A function error fails the step.
			r = runActivity(t, shell, f.object(t, "Step_c"), "FUNCTION_ERROR=Unhandled")
			if r.err == nil || !strings.Contains(r.out, "failed: Unhandled") {
				t.Errorf("function error: %v\n%s", r.err, r.out)
			}
		})
	}
}
