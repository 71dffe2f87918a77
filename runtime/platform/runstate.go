package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/stepinput"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// RunsPrefix is where step results are kept in the private bucket.
const RunsPrefix = "cumulus/runs/"

// ResultKey is where a step of a run keeps its result.
func ResultKey(pipeline, run, step string) string {
	return RunsPrefix + path.Join(pipeline, run, step) + ".json"
}

// RunState reads and writes the step results of runs in the private
// bucket.
type RunState struct {
	S3     Objects
	Bucket string
}

// PutResult keeps a step's result for the steps after it.
func (r RunState) PutResult(ctx context.Context, pipeline, run, step string, res contract.Result) error {
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encoding the result of step %s: %w", step, err)
	}
	key := ResultKey(pipeline, run, step)
	_, err = r.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("keeping the result of step %s at s3://%s/%s: %w", step, r.Bucket, key, err)
	}
	return nil
}

// result reads a step's result; ok is false when it has none.
func (r RunState) result(ctx context.Context, pipeline, run, step string) (contract.Result, bool, error) {
	key := ResultKey(pipeline, run, step)
	if ok, err := exists(ctx, r.S3, r.Bucket, key); err != nil {
		return contract.Result{}, false, fmt.Errorf("looking for the result of step %s at s3://%s/%s: %w", step, r.Bucket, key, err)
	} else if !ok {
		return contract.Result{}, false, nil
	}
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(key)})
	if err != nil {
		return contract.Result{}, false, fmt.Errorf("reading the result of step %s at s3://%s/%s: %w", step, r.Bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return contract.Result{}, false, fmt.Errorf("reading the result of step %s: %w", step, err)
	}
	var res contract.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return contract.Result{}, false, fmt.Errorf("the result of step %s at s3://%s/%s is not a step result: %w", step, r.Bucket, key, err)
	}
	return res, true, nil
}

// Input is the granule step st of run receives, start being the run's
// granule: the results of the steps it waits for, merged
// (stepinput.Merge). A step without a result was skipped, which only its
// condition may do; its output is then its own input.
func (r RunState) Input(ctx context.Context, g *graph.Graph, p *graph.Pipeline, run string, st *graph.Step, start contract.Granule) (contract.Granule, error) {
	memo := map[string]contract.Granule{}
	var input func(st *graph.Step, depth int) (contract.Granule, error)
	output := func(name string, depth int) (contract.Granule, error) {
		if gr, ok := memo[name]; ok {
			return gr, nil
		}
		res, ok, err := r.result(ctx, p.Name, run, name)
		if err != nil {
			return contract.Granule{}, err
		}
		if ok {
			memo[name] = res.Granule
			return res.Granule, nil
		}
		prev := stepOf(p, name)
		if prev == nil {
			return contract.Granule{}, fmt.Errorf("pipeline %s has no step %s (was the configuration deployed again during the run?)", p.Name, name)
		}
		in, err := input(prev, depth+1)
		if err != nil {
			return contract.Granule{}, err
		}
		ran, err := stepinput.When(g, prev, in)
		if err != nil {
			return contract.Granule{}, fmt.Errorf("step %s: deciding whether it ran: %w", name, err)
		}
		if ran {
			return contract.Granule{}, fmt.Errorf("step %s should have run before step %s but left no result at s3://%s/%s", name, st.Name, r.Bucket, ResultKey(p.Name, run, name))
		}
		memo[name] = in
		return in, nil
	}
	input = func(s *graph.Step, depth int) (contract.Granule, error) {
		if depth > len(p.Steps) {
			return contract.Granule{}, fmt.Errorf("pipeline %s: the steps before %s form a cycle", p.Name, s.Name)
		}
		outs := map[string]contract.Granule{}
		for _, a := range s.After {
			gr, err := output(a, depth)
			if err != nil {
				return contract.Granule{}, err
			}
			outs[a] = gr
		}
		return stepinput.Merge(start, s, outs), nil
	}
	return input(st, 0)
}

func stepOf(p *graph.Pipeline, name string) *graph.Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}
