package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// prune plans the deletion of what this configuration owns (by tag) and no
// longer declares, in the reverse of the creation order. Buckets and the
// engine's tables are never pruned: they hold the archive and the record of
// its runs.
func (p *planner) prune(ctx context.Context) error {
	wanted := map[string]bool{}
	for _, a := range p.plan.Actions {
		wanted[a.Kind+" "+a.Name] = true
	}
	del := func(kind, name string, run func(context.Context) error) {
		if !wanted[kind+" "+name] {
			p.add(&Action{Op: OpDelete, Kind: kind, Name: name, Reasons: []string{"owned by " + p.want.Prefix + " and no longer in the configuration"}, run: run})
		}
	}
	for _, name := range sortedKeys(p.pipelineIDs) {
		id := p.pipelineIDs[name]
		del(KindDataPipeline, name, func(ctx context.Context) error {
			_, err := p.c.DataPipeline.DeletePipeline(ctx, &datapipeline.DeletePipelineInput{PipelineId: aws.String(id)})
			return err
		})
	}
	for _, name := range sortedKeys(p.sfnARNs) {
		arn := p.sfnARNs[name]
		if wanted[KindStateMachine+" "+name] {
			continue
		}
		t, err := p.c.SFN.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("state machine %s: tags: %w", name, err)
		}
		if !p.owned(sfnTagMap(t.Tags)) {
			continue
		}
		del(KindStateMachine, name, func(ctx context.Context) error {
			_, err := p.c.SFN.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
			return err
		})
	}
	rules, err := p.c.Events.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(p.want.Prefix + "-")})
	if err != nil {
		return err
	}
	for _, r := range rules.Rules {
		name := aws.ToString(r.Name)
		if wanted[KindRule+" "+name] {
			continue
		}
		t, err := p.c.Events.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: r.Arn})
		if err != nil {
			return fmt.Errorf("rule %s: tags: %w", name, err)
		}
		if !p.owned(ebTagMap(t.Tags)) {
			continue
		}
		del(KindRule, name, func(ctx context.Context) error {
			tl, err := p.c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
			if err != nil {
				return err
			}
			var ids []string
			for _, t := range tl.Targets {
				ids = append(ids, aws.ToString(t.Id))
			}
			if len(ids) > 0 {
				if _, err := p.c.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: ids}); err != nil {
					return err
				}
			}
			_, err = p.c.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
			return err
		})
	}
	if err := p.pruneAPIs(ctx, del); err != nil {
		return err
	}
	pg := lambda.NewListFunctionsPaginator(p.c.Lambda, &lambda.ListFunctionsInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, f := range out.Functions {
			name := aws.ToString(f.FunctionName)
			if !strings.HasPrefix(name, p.want.Prefix+"-") || wanted[KindFunction+" "+name] {
				continue
			}
			t, err := p.c.Lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: f.FunctionArn})
			if err != nil {
				return fmt.Errorf("function %s: tags: %w", name, err)
			}
			if !p.owned(t.Tags) {
				continue
			}
			del(KindFunction, name, func(ctx context.Context) error {
				_, err := p.c.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
				return err
			})
		}
	}
	fams, err := p.c.ECS.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String(p.want.Prefix + "-"), Status: ecstypes.TaskDefinitionFamilyStatusActive})
	if err != nil {
		return err
	}
	for _, fam := range fams.Families {
		if wanted[KindTaskDefinition+" "+fam] {
			continue
		}
		out, err := p.c.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(fam), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
		if err != nil {
			return fmt.Errorf("task definition %s: %w", fam, err)
		}
		if !p.owned(ecsTagMap(out.Tags)) {
			continue
		}
		fam := fam
		del(KindTaskDefinition, fam, func(ctx context.Context) error {
			l, err := p.c.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(fam), Status: ecstypes.TaskDefinitionStatusActive})
			if err != nil {
				return err
			}
			for _, arn := range l.TaskDefinitionArns {
				if _, err := p.c.ECS.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := p.pruneIAM(ctx, del); err != nil {
		return err
	}
	groups, err := p.existingLogGroups(ctx)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(groups) {
		if wanted[KindLogGroup+" "+name] {
			continue
		}
		tags, err := p.logGroupTags(ctx, groups[name].arn)
		if err != nil {
			return err
		}
		if !p.owned(tags) {
			continue
		}
		name := name
		del(KindLogGroup, name, func(ctx context.Context) error {
			_, err := p.c.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
			return err
		})
	}
	return nil
}

// pruneAPIs deletes the HTTP APIs of this configuration (by name prefix
// and tag) that it no longer has, keeping every wanted one (the engine's
// and each distribution's); a function's permission to be invoked by
// one goes with the function or is replaced by the next plan.
func (p *planner) pruneAPIs(ctx context.Context, del func(string, string, func(context.Context) error)) error {
	in := &apigatewayv2.GetApisInput{}
	for {
		out, err := p.c.APIGateway.GetApis(ctx, in)
		if err != nil {
			return err
		}
		for _, a := range out.Items {
			name, id := aws.ToString(a.Name), a.ApiId
			if !strings.HasPrefix(name, p.want.Prefix+"-") || !p.owned(a.Tags) || p.apis[name] != nil {
				continue
			}
			del(KindHTTPAPI, name, func(ctx context.Context) error {
				_, err := p.c.APIGateway.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: id})
				return err
			})
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}
