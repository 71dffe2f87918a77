package deploy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFNAPI is what deploy uses of Step Functions.
type SFNAPI interface {
	ListStateMachines(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	DescribeStateMachine(context.Context, *sfn.DescribeStateMachineInput, ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
	CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	UpdateStateMachine(context.Context, *sfn.UpdateStateMachineInput, ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error)
	ListTagsForResource(context.Context, *sfn.ListTagsForResourceInput, ...func(*sfn.Options)) (*sfn.ListTagsForResourceOutput, error)
	TagResource(context.Context, *sfn.TagResourceInput, ...func(*sfn.Options)) (*sfn.TagResourceOutput, error)
	DeleteStateMachine(context.Context, *sfn.DeleteStateMachineInput, ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// StateMachine is one Step Functions state machine of a pipeline.
type StateMachine struct {
	Name  string
	Block string
	Input *sfn.CreateStateMachineInput
}

func sfnTagMap(tags []sfntypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (p *planner) existingStateMachines(ctx context.Context) (map[string]string, error) {
	arns := map[string]string{}
	pg := sfn.NewListStateMachinesPaginator(p.c.SFN, &sfn.ListStateMachinesInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range out.StateMachines {
			arns[aws.ToString(m.Name)] = aws.ToString(m.StateMachineArn)
		}
	}
	return arns, nil
}

func (p *planner) stateMachines(ctx context.Context) error {
	if len(p.want.StateMachines) == 0 && !p.opts.Prune {
		return nil
	}
	arns, err := p.existingStateMachines(ctx)
	if err != nil {
		return err
	}
	p.sfnARNs = arns
	for _, m := range p.want.StateMachines {
		m := m
		arn, ok := arns[m.Name]
		if !ok {
			p.add(&Action{Op: OpCreate, Kind: KindStateMachine, Name: m.Name, Block: m.Block, run: func(ctx context.Context) error {
				return retry(ctx, p.retry, "CreateStateMachine", func() error {
					_, err := p.c.SFN.CreateStateMachine(ctx, m.Input)
					return err
				})
			}})
			continue
		}
		tout, err := p.c.SFN.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("state machine %s: tags: %w", m.Name, err)
		}
		tags := sfnTagMap(tout.Tags)
		if !p.owned(tags) {
			p.conflict(KindStateMachine, m.Name, m.Block, tags)
			continue
		}
		cur, err := p.c.SFN.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("state machine %s: %w", m.Name, err)
		}
		var reasons []string
		if !sameJSON(aws.ToString(m.Input.Definition), aws.ToString(cur.Definition)) {
			reasons = append(reasons, "definition differs")
		}
		if aws.ToString(m.Input.RoleArn) != aws.ToString(cur.RoleArn) {
			reasons = append(reasons, fmt.Sprintf("role %s -> %s", aws.ToString(cur.RoleArn), aws.ToString(m.Input.RoleArn)))
		}
		if canonical(m.Input.LoggingConfiguration) != canonical(cur.LoggingConfiguration) {
			reasons = append(reasons, "logging differs")
		}
		configChanged := len(reasons) > 0
		tdiff := tagDiff(sfnTagMap(m.Input.Tags), tags)
		if len(tdiff) > 0 {
			reasons = append(reasons, tagReason(tdiff))
		}
		if cur.Type != m.Input.Type {
			reasons = append(reasons, fmt.Sprintf("type %s -> %s cannot change in place: delete the state machine first", cur.Type, m.Input.Type))
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindStateMachine, Name: m.Name, Block: m.Block})
			continue
		}
		p.add(&Action{Op: OpUpdate, Kind: KindStateMachine, Name: m.Name, Block: m.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if configChanged {
				err := retry(ctx, p.retry, "UpdateStateMachine", func() error {
					_, err := p.c.SFN.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn),
						Definition: m.Input.Definition, RoleArn: m.Input.RoleArn, LoggingConfiguration: m.Input.LoggingConfiguration})
					return err
				})
				if err != nil {
					return err
				}
			}
			if len(tdiff) > 0 {
				_, err := p.c.SFN.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: m.Input.Tags})
				return err
			}
			return nil
		}})
	}
	return nil
}
