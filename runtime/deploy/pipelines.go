package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
)

type pipelineState struct {
	id   string
	tags map[string]string
}

// existingPipelines maps the names of the account's pipelines that this
// configuration owns to their ids; foreign holds the other names.
func (p *planner) existingPipelines(ctx context.Context) (owned map[string]pipelineState, foreign map[string]map[string]string, err error) {
	var ids []string
	pg := datapipeline.NewListPipelinesPaginator(p.c.DataPipeline, &datapipeline.ListPipelinesInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range out.PipelineIdList {
			ids = append(ids, aws.ToString(id.Id))
		}
	}
	owned, foreign = map[string]pipelineState{}, map[string]map[string]string{}
	for len(ids) > 0 {
		n := min(len(ids), 25)
		out, err := p.c.DataPipeline.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: ids[:n]})
		if err != nil {
			return nil, nil, err
		}
		ids = ids[n:]
		for _, d := range out.PipelineDescriptionList {
			tags := map[string]string{}
			for _, t := range d.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			name := aws.ToString(d.Name)
			if p.owned(tags) {
				owned[name] = pipelineState{id: aws.ToString(d.PipelineId), tags: tags}
			} else {
				foreign[name] = tags
			}
		}
	}
	return owned, foreign, nil
}

func (p *planner) pipelines(ctx context.Context) error {
	if len(p.want.Pipelines) == 0 && !p.opts.Prune {
		return nil
	}
	owned, foreign, err := p.existingPipelines(ctx)
	if err != nil {
		return err
	}
	for name, st := range owned {
		p.pipelineIDs[name] = st.id
	}
	for _, dp := range p.want.Pipelines {
		dp := dp
		activate := slices.Contains(p.opts.Activate, dp.Pipeline) || slices.Contains(p.opts.Activate, dp.Name)
		st, ok := owned[dp.Name]
		if !ok {
			if tags, taken := foreign[dp.Name]; taken {
				p.conflict(KindDataPipeline, dp.Name, dp.Block, tags)
				continue
			}
			reasons := []string{"unique id " + dp.UniqueID}
			if activate {
				reasons = append(reasons, "activate (asked for)")
			}
			p.add(&Action{Op: OpCreate, Kind: KindDataPipeline, Name: dp.Name, Block: dp.Block, Reasons: reasons, run: func(ctx context.Context) error {
				var tags []dptypes.Tag
				for _, k := range sortedKeys(dp.Tags) {
					tags = append(tags, dptypes.Tag{Key: aws.String(k), Value: aws.String(dp.Tags[k])})
				}
				// The unique id makes CreatePipeline idempotent: a retry after
				// a lost answer gets the same pipeline back.
				out, err := p.c.DataPipeline.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String(dp.Name), UniqueId: aws.String(dp.UniqueID),
					Description: aws.String("cumulus: " + dp.Block + " of " + p.want.Prefix), Tags: tags})
				if err != nil {
					return err
				}
				return p.putDefinition(ctx, dp, aws.ToString(out.PipelineId), activate)
			}})
			continue
		}
		def, err := p.c.DataPipeline.GetPipelineDefinition(ctx, &datapipeline.GetPipelineDefinitionInput{PipelineId: aws.String(st.id)})
		if err != nil {
			return fmt.Errorf("pipeline %s (%s): definition: %w", dp.Name, st.id, err)
		}
		var reasons []string
		changed := canonicalDefinition(&PipelineDefinition{Objects: def.PipelineObjects, Parameters: def.ParameterObjects, Values: def.ParameterValues}) != canonicalDefinition(dp.Definition)
		if changed {
			reasons = append(reasons, "definition differs")
		}
		if activate {
			reasons = append(reasons, "activate (asked for)")
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindDataPipeline, Name: dp.Name, Block: dp.Block})
			continue
		}
		id := st.id
		p.add(&Action{Op: OpUpdate, Kind: KindDataPipeline, Name: dp.Name, Block: dp.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if changed {
				return p.putDefinition(ctx, dp, id, activate)
			}
			_, err := p.c.DataPipeline.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)})
			return err
		}})
	}
	return nil
}

// putDefinition validates the definition first, so that a definition AWS
// refuses never replaces one that works, then puts it, then activates the
// pipeline when asked.
func (p *planner) putDefinition(ctx context.Context, dp DataPipeline, id string, activate bool) error {
	def := dp.Definition
	v, err := p.c.DataPipeline.ValidatePipelineDefinition(ctx, &datapipeline.ValidatePipelineDefinitionInput{PipelineId: aws.String(id),
		PipelineObjects: def.Objects, ParameterObjects: def.Parameters, ParameterValues: def.Values})
	if err != nil {
		return err
	}
	if v.Errored {
		return fmt.Errorf("AWS Data Pipeline refuses the definition of %s: %s", dp.Name, validationText(v.ValidationErrors))
	}
	put, err := p.c.DataPipeline.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: aws.String(id),
		PipelineObjects: def.Objects, ParameterObjects: def.Parameters, ParameterValues: def.Values})
	if err != nil {
		return err
	}
	if put.Errored {
		return fmt.Errorf("AWS Data Pipeline refuses the definition of %s: %s", dp.Name, validationText(put.ValidationErrors))
	}
	if activate {
		_, err := p.c.DataPipeline.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: aws.String(id)})
		return err
	}
	return nil
}

func validationText(es []dptypes.ValidationError) string {
	s := ""
	for _, e := range es {
		for _, m := range e.Errors {
			if s != "" {
				s += "; "
			}
			s += aws.ToString(e.Id) + ": " + m
		}
	}
	return s
}

// canonicalDefinition is a comparable form of a definition: objects by id,
// fields by key and value, as AWS may return them in another order.
func canonicalDefinition(d *PipelineDefinition) string {
	type field struct{ K, S, R string }
	type object struct {
		ID, Name string
		Fields   []field
	}
	var objs []object
	for _, o := range d.Objects {
		ob := object{ID: aws.ToString(o.Id), Name: aws.ToString(o.Name)}
		for _, f := range o.Fields {
			ob.Fields = append(ob.Fields, field{aws.ToString(f.Key), aws.ToString(f.StringValue), aws.ToString(f.RefValue)})
		}
		sort.Slice(ob.Fields, func(i, j int) bool {
			a, b := ob.Fields[i], ob.Fields[j]
			return a.K+"\x00"+a.S+"\x00"+a.R < b.K+"\x00"+b.S+"\x00"+b.R
		})
		objs = append(objs, ob)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].ID < objs[j].ID })
	var params []object
	for _, o := range d.Parameters {
		ob := object{ID: aws.ToString(o.Id)}
		for _, a := range o.Attributes {
			ob.Fields = append(ob.Fields, field{K: aws.ToString(a.Key), S: aws.ToString(a.StringValue)})
		}
		sort.Slice(ob.Fields, func(i, j int) bool { return ob.Fields[i].K+ob.Fields[i].S < ob.Fields[j].K+ob.Fields[j].S })
		params = append(params, ob)
	}
	sort.Slice(params, func(i, j int) bool { return params[i].ID < params[j].ID })
	var values []field
	for _, v := range d.Values {
		values = append(values, field{K: aws.ToString(v.Id), S: aws.ToString(v.StringValue)})
	}
	sort.Slice(values, func(i, j int) bool { return values[i].K+values[i].S < values[j].K+values[j].S })
	b, _ := json.Marshal([]any{objs, params, values})
	return string(b)
}
