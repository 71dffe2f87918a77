package deploy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tables: the engine's DynamoDB tables are created with their tags and
// indexes. An existing table keeps its items whatever changes: tags and
// the billing mode are updated in place, a missing index is added (one per
// UpdateTable, which is all DynamoDB takes at a time), and what DynamoDB
// cannot change in place (the key schema, an index's keys or projection)
// is refused as a conflict, since the only way through is a new table. No
// table is ever deleted, by prune or otherwise: they hold the record of
// every run.
func (p *planner) tables(ctx context.Context) error {
	for _, t := range p.want.Tables {
		t := t
		out, err := p.c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)})
		if errorCode(err) == "ResourceNotFoundException" {
			p.add(&Action{Op: OpCreate, Kind: KindTable, Name: t.Name, Block: t.Block, run: func(ctx context.Context) error {
				_, err := p.c.DynamoDB.CreateTable(ctx, t.Input)
				if errorCode(err) == "ResourceInUseException" {
					return nil // created by a run that did not see the answer
				}
				return err
			}})
			continue
		}
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		have := out.Table
		arn := aws.ToString(have.TableArn)
		tags, err := p.tableTags(ctx, arn)
		if err != nil {
			return err
		}
		if !p.owned(tags) {
			p.conflict(KindTable, t.Name, t.Block, tags)
			continue
		}
		fixed, missing, billing := tableDiff(t.Input, have)
		if len(fixed) > 0 {
			p.add(&Action{Op: OpConflict, Kind: KindTable, Name: t.Name, Block: t.Block, Reasons: append(fixed,
				"DynamoDB cannot change this in place and deploy never replaces a table (it holds the runs' record): create the new design under another deployment prefix, or delete the table yourself")})
			continue
		}
		wantTags := ddbTagMap(t.Input.Tags)
		tdiff := tagDiff(wantTags, tags)
		var reasons []string
		if billing {
			reasons = append(reasons, fmt.Sprintf("billing mode %s -> %s", billingMode(have), t.Input.BillingMode))
		}
		for _, ix := range missing {
			reasons = append(reasons, "add index "+aws.ToString(ix.IndexName))
		}
		if len(tdiff) > 0 {
			reasons = append(reasons, tagReason(tdiff))
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindTable, Name: t.Name, Block: t.Block})
			continue
		}
		p.add(&Action{Op: OpUpdate, Kind: KindTable, Name: t.Name, Block: t.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if len(tdiff) > 0 {
				if _, err := p.c.DynamoDB.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: t.Input.Tags}); err != nil {
					return err
				}
			}
			if billing {
				in := &dynamodb.UpdateTableInput{TableName: aws.String(t.Name), BillingMode: t.Input.BillingMode, ProvisionedThroughput: t.Input.ProvisionedThroughput}
				if err := p.updateTable(ctx, in); err != nil {
					return err
				}
			}
			for _, ix := range missing {
				in := &dynamodb.UpdateTableInput{
					TableName:            aws.String(t.Name),
					AttributeDefinitions: t.Input.AttributeDefinitions,
					GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Create: &ddbtypes.CreateGlobalSecondaryIndexAction{
						IndexName: ix.IndexName, KeySchema: ix.KeySchema, Projection: ix.Projection, ProvisionedThroughput: ix.ProvisionedThroughput,
					}}},
				}
				if err := p.updateTable(ctx, in); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	return nil
}

// updateTable retries while the table is busy with a previous update
// (an index still being built).
func (p *planner) updateTable(ctx context.Context, in *dynamodb.UpdateTableInput) error {
	b := p.retry
	wait := b.Initial
	for attempt := 1; ; attempt++ {
		_, err := p.c.DynamoDB.UpdateTable(ctx, in)
		if c := errorCode(err); err == nil || (c != "ResourceInUseException" && c != "LimitExceededException") || attempt >= b.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, b.Max)
	}
}

func (p *planner) tableTags(ctx context.Context, arn string) (map[string]string, error) {
	m := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := p.c.DynamoDB.ListTagsOfResource(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("table %s: tags: %w", arn, err)
		}
		for k, v := range ddbTagMap(out.Tags) {
			m[k] = v
		}
		if out.NextToken == nil {
			return m, nil
		}
		in.NextToken = out.NextToken
	}
}

func ddbTagMap(tags []ddbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func billingMode(t *ddbtypes.TableDescription) ddbtypes.BillingMode {
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		return t.BillingModeSummary.BillingMode
	}
	return ddbtypes.BillingModeProvisioned // what DynamoDB reports no summary for
}

// tableDiff compares a wanted table with an existing one: what cannot
// change in place, the indexes to add, and whether the billing mode
// differs.
func tableDiff(want *dynamodb.CreateTableInput, have *ddbtypes.TableDescription) (fixed []string, missing []ddbtypes.GlobalSecondaryIndex, billing bool) {
	if canonical(want.KeySchema) != canonical(have.KeySchema) {
		fixed = append(fixed, fmt.Sprintf("key schema %s -> %s", canonical(have.KeySchema), canonical(want.KeySchema)))
	}
	attrTypes := map[string]ddbtypes.ScalarAttributeType{}
	for _, a := range have.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	for _, a := range want.AttributeDefinitions {
		if t, ok := attrTypes[aws.ToString(a.AttributeName)]; ok && t != a.AttributeType {
			fixed = append(fixed, fmt.Sprintf("attribute %s is of type %s, not %s", aws.ToString(a.AttributeName), t, a.AttributeType))
		}
	}
	existing := map[string]ddbtypes.GlobalSecondaryIndexDescription{}
	for _, ix := range have.GlobalSecondaryIndexes {
		existing[aws.ToString(ix.IndexName)] = ix
	}
	for _, ix := range want.GlobalSecondaryIndexes {
		cur, ok := existing[aws.ToString(ix.IndexName)]
		if !ok {
			missing = append(missing, ix)
			continue
		}
		if canonical(ix.KeySchema) != canonical(cur.KeySchema) || canonicalProjection(ix.Projection) != canonicalProjection(cur.Projection) {
			fixed = append(fixed, "index "+aws.ToString(ix.IndexName)+" has other keys or attributes")
		}
	}
	billing = want.BillingMode != "" && want.BillingMode != billingMode(have)
	return fixed, missing, billing
}

func canonicalProjection(pr *ddbtypes.Projection) string {
	if pr == nil {
		return ""
	}
	attrs := slices.Clone(pr.NonKeyAttributes)
	slices.Sort(attrs)
	return string(pr.ProjectionType) + fmt.Sprint(attrs)
}
