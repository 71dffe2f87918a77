package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func ebTags(stage string) []ebtypes.Tag {
	if stage == "" {
		return nil
	}
	return []ebtypes.Tag{{Key: aws.String(TagStage), Value: aws.String(stage)}}
}

func ebTagMap(tags []ebtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (p *planner) rules(ctx context.Context) error {
	for _, r := range p.want.Rules {
		r := r
		putTargets := func(ctx context.Context, remove []string) error {
			if len(remove) > 0 {
				if _, err := p.c.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.Name), Ids: remove}); err != nil {
					return err
				}
			}
			if r.Targets == nil {
				return nil
			}
			out, err := p.c.Events.PutTargets(ctx, r.Targets)
			if err != nil {
				return err
			}
			if out.FailedEntryCount > 0 {
				e := out.FailedEntries[0]
				return fmt.Errorf("target %s of rule %s: %s: %s", aws.ToString(e.TargetId), r.Name, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
			}
			return nil
		}
		cur, err := p.c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.Name)})
		if errorCode(err) == "ResourceNotFoundException" {
			p.add(&Action{Op: OpCreate, Kind: KindRule, Name: r.Name, Block: r.Block, run: func(ctx context.Context) error {
				if _, err := p.c.Events.PutRule(ctx, r.Rule); err != nil {
					return err
				}
				return putTargets(ctx, nil)
			}})
			continue
		}
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
		tout, err := p.c.Events.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: cur.Arn})
		if err != nil {
			return fmt.Errorf("rule %s: tags: %w", r.Name, err)
		}
		tags := ebTagMap(tout.Tags)
		if !p.owned(tags) {
			p.conflict(KindRule, r.Name, r.Block, tags)
			continue
		}
		var reasons []string
		ruleChanged := false
		cmp := func(name, want, have string) {
			if want != have {
				reasons = append(reasons, fmt.Sprintf("%s %q -> %q", name, have, want))
				ruleChanged = true
			}
		}
		cmp("ScheduleExpression", aws.ToString(r.Rule.ScheduleExpression), aws.ToString(cur.ScheduleExpression))
		cmp("EventPattern", canonicalPattern(aws.ToString(r.Rule.EventPattern)), canonicalPattern(aws.ToString(cur.EventPattern)))
		cmp("State", string(r.Rule.State), string(cur.State))
		cmp("Description", aws.ToString(r.Rule.Description), aws.ToString(cur.Description))
		tdiff := tagDiff(ebTagMap(r.Rule.Tags), tags)
		if len(tdiff) > 0 {
			reasons = append(reasons, tagReason(tdiff))
		}
		tl, err := p.c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.Name)})
		if err != nil {
			return fmt.Errorf("rule %s: targets: %w", r.Name, err)
		}
		var want []ebtypes.Target
		if r.Targets != nil {
			want = r.Targets.Targets
		}
		targetsChanged := canonicalTargets(want) != canonicalTargets(tl.Targets)
		var remove []string
		if targetsChanged {
			wantIDs := map[string]bool{}
			for _, t := range want {
				wantIDs[aws.ToString(t.Id)] = true
			}
			for _, t := range tl.Targets {
				if !wantIDs[aws.ToString(t.Id)] {
					remove = append(remove, aws.ToString(t.Id))
				}
			}
			reasons = append(reasons, "targets differ")
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindRule, Name: r.Name, Block: r.Block})
			continue
		}
		arn := cur.Arn
		p.add(&Action{Op: OpUpdate, Kind: KindRule, Name: r.Name, Block: r.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if ruleChanged {
				in := *r.Rule
				in.Tags = nil // PutRule on an existing rule does not change tags
				if _, err := p.c.Events.PutRule(ctx, &in); err != nil {
					return err
				}
			}
			if len(tdiff) > 0 {
				if _, err := p.c.Events.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: arn, Tags: r.Rule.Tags}); err != nil {
					return err
				}
			}
			if targetsChanged {
				return putTargets(ctx, remove)
			}
			return nil
		}})
	}
	return nil
}

// canonicalPattern is a comparable form of an event pattern: EventBridge
// may give it back with other spacing or key order.
func canonicalPattern(p string) string {
	var v any
	if json.Unmarshal([]byte(p), &v) != nil {
		return p
	}
	b, _ := json.Marshal(v) // decoded JSON always encodes
	return string(b)
}

// canonicalTargets is a comparable form of a rule's targets.
func canonicalTargets(ts []ebtypes.Target) string {
	list := append([]ebtypes.Target{}, ts...)
	sort.Slice(list, func(i, j int) bool { return aws.ToString(list[i].Id) < aws.ToString(list[j].Id) })
	b, _ := json.Marshal(list)
	return string(b)
}
