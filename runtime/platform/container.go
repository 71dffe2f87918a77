package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cumulus-toolchain/cumulus/runtime/stepinput"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// ContainerStep is a user's container step on AWS as the step wrapper sees
// it: the state machine gives every step the run's first granule, and the
// wrapper replaces it with what the step really receives before running
// the program, and keeps the program's result for the steps after.
type ContainerStep struct {
	Pipeline, Step, Run string
	Attempt             int
	// Granule is what the step receives; Skip is true when its condition
	// is false for it.
	Granule contract.Granule
	Skip    bool
	// Env are the step's env and with, evaluated for Granule, to set
	// over what the state machine passed.
	Env map[string]string

	state RunState
}

// PrepareContainerStep reads the graph and the results of the steps
// before this one. getenv is the container's environment: CUMULUS_GRAPH,
// CUMULUS_RUN, CUMULUS_PIPELINE, CUMULUS_STEP, CUMULUS_GRANULE (the run's
// granule), CUMULUS_ATTEMPT.
func PrepareContainerStep(ctx context.Context, client Objects, getenv func(string) string) (*ContainerStep, error) {
	graphs, err := NewGraphSource(client, getenv(EnvGraph))
	if err != nil {
		return nil, err
	}
	g, err := graphs.Graph(ctx)
	if err != nil {
		return nil, err
	}
	c := &ContainerStep{Pipeline: getenv(contract.EnvPipeline), Step: getenv(contract.EnvStep), Run: getenv(EnvRun), Attempt: 1}
	if a, err := strconv.Atoi(getenv(EnvAttempt)); err == nil && a > 0 {
		c.Attempt = a
	}
	if c.Run == "" {
		return nil, fmt.Errorf("%s is not set: the state machine names the run there", EnvRun)
	}
	p, st, err := Find(g, c.Pipeline, c.Step)
	if err != nil {
		return nil, err
	}
	var start contract.Granule
	if err := json.Unmarshal([]byte(getenv(contract.EnvGranule)), &start); err != nil {
		return nil, fmt.Errorf("%s is not a granule document: %w", contract.EnvGranule, err)
	}
	c.state = RunState{S3: client, Bucket: g.ArtifactBucket}
	if c.Granule, err = c.state.Input(ctx, g, p, c.Run, st, start); err != nil {
		return nil, err
	}
	run, err := stepinput.When(g, st, c.Granule)
	if err != nil {
		return nil, fmt.Errorf("step %s: deciding whether to run: %w", st.Name, err)
	}
	c.Skip = !run
	if c.Skip {
		return c, nil
	}
	env, with, err := stepinput.Bindings(g, st, c.Granule)
	if err != nil {
		return nil, fmt.Errorf("step %s: %w", st.Name, err)
	}
	doc, err := json.Marshal(c.Granule)
	if err != nil {
		return nil, fmt.Errorf("encoding the granule: %w", err)
	}
	c.Env = maps.Clone(env)
	c.Env[contract.EnvGranule] = string(doc)
	if with != nil {
		w, err := json.Marshal(with)
		if err != nil {
			return nil, fmt.Errorf("encoding with: %w", err)
		}
		c.Env[contract.EnvWith] = string(w)
	}
	return c, nil
}

// Environ returns environ with the step's values set over the state
// machine's.
func (c *ContainerStep) Environ(environ []string) []string {
	out := slices.Clone(environ)
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		out = append(out, k+"="+c.Env[k])
	}
	return out
}

// Finish keeps the step's result for the steps after it.
func (c *ContainerStep) Finish(ctx context.Context, res contract.Result) error {
	return c.state.PutResult(ctx, c.Pipeline, c.Run, c.Step, res)
}

// ECSTaskARN is the ARN of the ECS task the process runs in, from the
// task metadata endpoint (ECS_CONTAINER_METADATA_URI_V4), "" elsewhere:
// what the engine's log source turns into the task's log stream.
func ECSTaskARN(ctx context.Context, getenv func(string) string) string {
	base := getenv("ECS_CONTAINER_METADATA_URI_V4")
	if base == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/task", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var task struct {
		TaskARN string `json:"TaskARN"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&task) != nil {
		return ""
	}
	return task.TaskARN
}
