package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"

	dpdef "github.com/cumulus-toolchain/cumulus/compiler/datapipeline"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// DataPipelines is what the trigger needs of AWS Data Pipeline.
type DataPipelines interface {
	ListPipelines(context.Context, *datapipeline.ListPipelinesInput, ...func(*datapipeline.Options)) (*datapipeline.ListPipelinesOutput, error)
	DescribePipelines(context.Context, *datapipeline.DescribePipelinesInput, ...func(*datapipeline.Options)) (*datapipeline.DescribePipelinesOutput, error)
	GetPipelineDefinition(context.Context, *datapipeline.GetPipelineDefinitionInput, ...func(*datapipeline.Options)) (*datapipeline.GetPipelineDefinitionOutput, error)
	CreatePipeline(context.Context, *datapipeline.CreatePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.CreatePipelineOutput, error)
	PutPipelineDefinition(context.Context, *datapipeline.PutPipelineDefinitionInput, ...func(*datapipeline.Options)) (*datapipeline.PutPipelineDefinitionOutput, error)
	ActivatePipeline(context.Context, *datapipeline.ActivatePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.ActivatePipelineOutput, error)
	DeletePipeline(context.Context, *datapipeline.DeletePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.DeletePipelineOutput, error)
}

// ErrAtCapacity is the error type of a trigger that found its pipeline
// running as many granules as its concurrency allows: Lambda retries the
// event later.
const ErrAtCapacity = "cumulus.AtCapacity"

// Data Pipeline states a granule's pipeline is done in.
var dpDone = map[string]bool{"FINISHED": true, "CANCELED": true, "FAILED": true, "CASCADE_FAILED": true, "TIMEDOUT": true}

// startDataPipeline runs a granule in a pipeline of its own made from the
// deployed one (compiler/datapipeline: activating an on-demand pipeline
// that runs would cancel its run): created with the run's name as its
// unique id, so a repeated event finds it rather than making another, and
// activated only once. Granule pipelines that are done are deleted, and at
// most the pipeline's concurrency run at once.
func (t *Trigger) startDataPipeline(ctx context.Context, g *graph.Graph, p *graph.Pipeline, in ExecutionInput, name string) (Started, error) {
	s := Started{Pipeline: p.Name, Granule: in.Granule.ID, Execution: name}
	if t.DP == nil {
		return s, errors.New("orchestrator = \"datapipeline\" but this function has no Data Pipeline client")
	}
	template, runs, err := t.dpPipelines(ctx, g, p)
	if err != nil {
		return s, err
	}
	runName := p.ResourceName + "-" + name
	active := 0
	for _, r := range runs {
		switch {
		case r.name == runName:
			if r.state != "PENDING" {
				// Activated by an earlier event.
				s.Already, s.Execution = true, r.id
				return s, nil
			}
		case dpDone[r.state]:
			if _, err := t.DP.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(r.id)}); err != nil {
				t.logger().Warn("could not delete a finished granule pipeline", "pipeline", r.name, "err", err)
			}
		case r.state != "PENDING":
			active++
		}
	}
	if p.Concurrency > 0 && active >= p.Concurrency {
		return s, fatalType(ErrAtCapacity, fmt.Errorf("pipeline %s runs %d granules, its concurrency; granule %s waits for the event's retry", p.Name, active, in.Granule.ID))
	}
	def, err := t.DP.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(template.id)})
	if err != nil {
		return s, fmt.Errorf("reading the definition of %s: %w", p.ResourceName, err)
	}
	tags := append([]dptypes.Tag(nil), template.tags...)
	tags = append(tags, dptypes.Tag{Key: aws.String("cumulus:granule"), Value: aws.String(truncate(in.Granule.ID, 256))})
	created, err := t.DP.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(runName), UniqueId: aws.String(name), Tags: tags,
		Description: aws.String("cumulus: granule " + truncate(in.Granule.ID, 200) + " through pipeline " + p.Name)})
	if err != nil {
		return s, fmt.Errorf("creating the granule's pipeline: %w", err)
	}
	id := created.PipelineId
	values, err := parameterValues(in)
	if err != nil {
		return s, err
	}
	put, err := t.DP.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: id,
		PipelineObjects: def.PipelineObjects, ParameterObjects: def.ParameterObjects, ParameterValues: values})
	if err != nil {
		return s, fmt.Errorf("defining the granule's pipeline: %w", err)
	}
	if put.Errored {
		return s, fatal(fmt.Errorf("the definition for granule %s was refused by Data Pipeline: %+v", in.Granule.ID, put.ValidationErrors))
	}
	if _, err := t.DP.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: id, ParameterValues: values}); err != nil {
		return s, fmt.Errorf("activating the granule's pipeline: %w", err)
	}
	s.Execution = aws.ToString(id)
	return s, nil
}

type dpPipeline struct {
	id, name, state string
	tags            []dptypes.Tag
}

// dpPipelines finds the deployed pipeline (by name and this
// configuration's tag) and the granule pipelines made from it.
func (t *Trigger) dpPipelines(ctx context.Context, g *graph.Graph, p *graph.Pipeline) (dpPipeline, []dpPipeline, error) {
	var ids []string
	names := map[string]string{}
	pg := datapipeline.NewListPipelinesPaginator(t.DP, &datapipeline.ListPipelinesInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return dpPipeline{}, nil, fmt.Errorf("listing Data Pipelines: %w", err)
		}
		for _, x := range out.PipelineIdList {
			n := aws.ToString(x.Name)
			if n == p.ResourceName || strings.HasPrefix(n, p.ResourceName+"-") {
				ids = append(ids, aws.ToString(x.Id))
				names[aws.ToString(x.Id)] = n
			}
		}
	}
	var template dpPipeline
	var runs []dpPipeline
	for len(ids) > 0 {
		batch := ids[:min(25, len(ids))] // DescribePipelines takes 25 ids
		ids = ids[len(batch):]
		out, err := t.DP.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: batch})
		if err != nil {
			return dpPipeline{}, nil, fmt.Errorf("describing Data Pipelines: %w", err)
		}
		for _, d := range out.PipelineDescriptionList {
			x := dpPipeline{id: aws.ToString(d.PipelineId), name: names[aws.ToString(d.PipelineId)], tags: d.Tags}
			for _, f := range d.Fields {
				if aws.ToString(f.Key) == "@pipelineState" {
					x.state = aws.ToString(f.StringValue)
				}
			}
			if dpTag(d.Tags, "cumulus:config") != g.Prefix {
				continue // not this configuration's
			}
			if x.name == p.ResourceName {
				template = x
			} else {
				runs = append(runs, x)
			}
		}
	}
	if template.id == "" {
		return dpPipeline{}, nil, fmt.Errorf("the Data Pipeline %s of this configuration is not deployed (cumulus deploy creates it)", p.ResourceName)
	}
	return template, runs, nil
}

func dpTag(tags []dptypes.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// parameterValues are a granule's values of the definition's parameters
// (compiler/datapipeline): its attributes, the document, the staged keys.
func parameterValues(in ExecutionInput) ([]dptypes.ParameterValue, error) {
	var out []dptypes.ParameterValue
	for _, gp := range dpdef.GranuleParams {
		out = append(out, dptypes.ParameterValue{Id: aws.String(gp.ID), StringValue: aws.String(in.Attributes[gp.Attr])})
	}
	doc, err := json.Marshal(in.Granule)
	if err != nil {
		return nil, fmt.Errorf("encoding the granule: %w", err)
	}
	keys, err := json.Marshal(in.StagedKeys)
	if err != nil {
		return nil, fmt.Errorf("encoding the staged keys: %w", err)
	}
	// Data Pipeline takes parameter values of at most 10,240 characters.
	if len(doc) > maxParameterValue || len(keys) > maxParameterValue {
		return nil, fatal(fmt.Errorf("granule %s: its document (%d bytes) is longer than a Data Pipeline parameter may be (%d); a granule of this many files runs with orchestrator = \"stepfunctions\"", in.Granule.ID, max(len(doc), len(keys)), maxParameterValue))
	}
	return append(out,
		dptypes.ParameterValue{Id: aws.String(dpdef.ParamGranule), StringValue: aws.String(string(doc))},
		dptypes.ParameterValue{Id: aws.String(dpdef.ParamStagedKeys), StringValue: aws.String(string(keys))},
	), nil
}

// maxParameterValue is the longest parameter value Data Pipeline takes.
const maxParameterValue = 10240

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
