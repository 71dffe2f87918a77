package deploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// buckets: created, then tagged (S3 takes no tags at creation). A bucket
// with no tags and no objects is one whose creation did not finish: it is
// adopted (tagged) so that a failed run converges.
func (p *planner) buckets(ctx context.Context) error {
	for _, b := range p.want.Buckets {
		b := b
		_, err := p.c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Name)})
		if err != nil {
			if code := errorCode(err); code == "NotFound" || code == "NoSuchBucket" {
				p.add(&Action{Op: OpCreate, Kind: KindBucket, Name: b.Name, Block: b.Block, run: func(ctx context.Context) error {
					in := &s3.CreateBucketInput{Bucket: aws.String(b.Name)}
					if p.want.Region != "us-east-1" {
						in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.want.Region)}
					}
					if _, err := p.c.S3.CreateBucket(ctx, in); err != nil && errorCode(err) != "BucketAlreadyOwnedByYou" {
						return err
					}
					return p.tagBucket(ctx, b)
				}})
				continue
			}
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
		have, err := p.bucketTags(ctx, b.Name)
		if err != nil {
			return err
		}
		if !p.owned(have) {
			if len(have) == 0 {
				empty, err := p.bucketEmpty(ctx, b.Name)
				if err != nil {
					return err
				}
				if empty {
					p.add(&Action{Op: OpUpdate, Kind: KindBucket, Name: b.Name, Block: b.Block,
						Reasons: []string{"untagged and empty: a creation that did not finish; tag it"},
						run:     func(ctx context.Context) error { return p.tagBucket(ctx, b) }})
					continue
				}
			}
			p.conflict(KindBucket, b.Name, b.Block, have)
			continue
		}
		if diff := tagDiff(b.Tags, have); len(diff) > 0 {
			p.add(&Action{Op: OpUpdate, Kind: KindBucket, Name: b.Name, Block: b.Block, Reasons: []string{tagReason(diff)},
				run: func(ctx context.Context) error { return p.tagBucket(ctx, b) }})
			continue
		}
		p.add(&Action{Op: OpUnchanged, Kind: KindBucket, Name: b.Name, Block: b.Block})
	}
	return nil
}

func (p *planner) bucketTags(ctx context.Context, name string) (map[string]string, error) {
	out, err := p.c.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if errorCode(err) == "NoSuchTagSet" {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: tags: %w", name, err)
	}
	m := map[string]string{}
	for _, t := range out.TagSet {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

func (p *planner) bucketEmpty(ctx context.Context, name string) (bool, error) {
	out, err := p.c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name), MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, fmt.Errorf("bucket %s: listing: %w", name, err)
	}
	return len(out.Contents) == 0, nil
}

// tagBucket sets deploy's tags, keeping the others the bucket has.
func (p *planner) tagBucket(ctx context.Context, b Bucket) error {
	have, err := p.bucketTags(ctx, b.Name)
	if err != nil {
		return err
	}
	for k, v := range b.Tags {
		have[k] = v
	}
	set := []s3types.Tag{}
	for _, k := range sortedKeys(have) {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(have[k])})
	}
	_, err = p.c.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(b.Name), Tagging: &s3types.Tagging{TagSet: set}})
	return err
}

// logGroupPrefix is where every log group of the configuration is.
func (p *planner) logGroupPrefix() string { return "/cumulus/" + p.want.Prefix + "/" }

type logGroupState struct {
	arn       string
	retention int32
}

func (p *planner) existingLogGroups(ctx context.Context) (map[string]logGroupState, error) {
	have := map[string]logGroupState{}
	pg := cloudwatchlogs.NewDescribeLogGroupsPaginator(p.c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(p.logGroupPrefix())})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range out.LogGroups {
			have[aws.ToString(g.LogGroupName)] = logGroupState{arn: aws.ToString(g.LogGroupArn), retention: aws.ToInt32(g.RetentionInDays)}
		}
	}
	return have, nil
}

func (p *planner) logGroupTags(ctx context.Context, arn string) (map[string]string, error) {
	out, err := p.c.Logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(trimStar(arn))})
	if err != nil {
		return nil, fmt.Errorf("log group %s: tags: %w", arn, err)
	}
	return out.Tags, nil
}

// trimStar turns a log group's ARN as DescribeLogGroups gives it
// (ending ":*") into the one the tagging API takes.
func trimStar(arn string) string {
	if len(arn) > 2 && arn[len(arn)-2:] == ":*" {
		return arn[:len(arn)-2]
	}
	return arn
}

func (p *planner) logGroups(ctx context.Context) error {
	have, err := p.existingLogGroups(ctx)
	if err != nil {
		return err
	}
	for _, g := range p.want.LogGroups {
		g := g
		retention := func(ctx context.Context) error {
			if g.RetentionDays <= 0 {
				return nil
			}
			_, err := p.c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g.Name), RetentionInDays: aws.Int32(g.RetentionDays)})
			return err
		}
		cur, ok := have[g.Name]
		if !ok {
			p.add(&Action{Op: OpCreate, Kind: KindLogGroup, Name: g.Name, Block: "platform", run: func(ctx context.Context) error {
				_, err := p.c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g.Name), Tags: g.Tags})
				if err != nil && errorCode(err) != "ResourceAlreadyExistsException" {
					return err
				}
				return retention(ctx)
			}})
			continue
		}
		tags, err := p.logGroupTags(ctx, cur.arn)
		if err != nil {
			return err
		}
		if !p.owned(tags) {
			p.conflict(KindLogGroup, g.Name, "platform", tags)
			continue
		}
		var reasons []string
		diff := tagDiff(g.Tags, tags)
		if len(diff) > 0 {
			reasons = append(reasons, tagReason(diff))
		}
		if g.RetentionDays > 0 && cur.retention != g.RetentionDays {
			reasons = append(reasons, fmt.Sprintf("retention %d days -> %d", cur.retention, g.RetentionDays))
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindLogGroup, Name: g.Name, Block: "platform"})
			continue
		}
		arn := cur.arn
		p.add(&Action{Op: OpUpdate, Kind: KindLogGroup, Name: g.Name, Block: "platform", Reasons: reasons, run: func(ctx context.Context) error {
			if len(diff) > 0 {
				if _, err := p.c.Logs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(trimStar(arn)), Tags: g.Tags}); err != nil {
					return err
				}
			}
			return retention(ctx)
		}})
	}
	return nil
}

func (p *planner) cluster(ctx context.Context) error {
	if p.want.Cluster == "" || len(p.want.TaskDefinitions) == 0 {
		return nil
	}
	name := p.want.Cluster
	out, err := p.c.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
	if err != nil {
		return err
	}
	for _, c := range out.Clusters {
		if aws.ToString(c.Status) != "ACTIVE" {
			continue
		}
		tags := ecsTagMap(c.Tags)
		if !p.owned(tags) {
			p.conflict(KindCluster, name, "platform", tags)
		} else {
			p.add(&Action{Op: OpUnchanged, Kind: KindCluster, Name: name, Block: "platform"})
		}
		return nil
	}
	tags := ecsTags(p.want.Tags, "platform")
	p.add(&Action{Op: OpCreate, Kind: KindCluster, Name: name, Block: "platform", run: func(ctx context.Context) error {
		_, err := p.c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name), Tags: tags})
		return err
	}})
	return nil
}

func (p *planner) taskDefinitions(ctx context.Context) error {
	for _, td := range p.want.TaskDefinitions {
		td := td
		register := func(ctx context.Context) error {
			_, err := p.c.ECS.RegisterTaskDefinition(ctx, td.Input)
			return err
		}
		out, err := p.c.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td.Family), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
		if err != nil {
			if errorCode(err) == "ClientException" {
				p.add(&Action{Op: OpCreate, Kind: KindTaskDefinition, Name: td.Family, Block: td.Block, run: register})
				continue
			}
			return fmt.Errorf("task definition %s: %w", td.Family, err)
		}
		tags := ecsTagMap(out.Tags)
		if !p.owned(tags) {
			p.conflict(KindTaskDefinition, td.Family, td.Block, tags)
			continue
		}
		if tags[TagSHA256] == td.SHA256 && len(tagDiff(ecsTagMap(td.Input.Tags), tags)) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindTaskDefinition, Name: td.Family, Block: td.Block})
			continue
		}
		rev := int32(0)
		if out.TaskDefinition != nil {
			rev = out.TaskDefinition.Revision
		}
		reason := fmt.Sprintf("content differs from revision %d: register revision %d", rev, rev+1)
		if tags[TagSHA256] == td.SHA256 {
			reason = tagReason(tagDiff(ecsTagMap(td.Input.Tags), tags)) + fmt.Sprintf(": register revision %d", rev+1)
		}
		p.add(&Action{Op: OpUpdate, Kind: KindTaskDefinition, Name: td.Family, Block: td.Block, Reasons: []string{reason}, run: register})
	}
	return nil
}

func ecsTagMap(tags []ecstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ecsTags(base map[string]string, block string) []ecstypes.Tag {
	out := []ecstypes.Tag{}
	m := map[string]string{TagBlock: block}
	for k, v := range base {
		m[k] = v
	}
	for _, k := range sortedKeys(m) {
		out = append(out, ecstypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func ecsTag(k, v string) ecstypes.Tag { return ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }

func withStage(tags []ecstypes.Tag, stage string) []ecstypes.Tag {
	if stage == "" {
		return tags
	}
	return append(tags, ecsTag(TagStage, stage))
}
