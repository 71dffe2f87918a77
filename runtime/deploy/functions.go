package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (p *planner) functions(ctx context.Context) error {
	for _, f := range p.want.Functions {
		f := f
		out, err := p.c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(f.Name)})
		if errorCode(err) == "ResourceNotFoundException" {
			var reasons []string
			if f.Input.Code != nil && f.Input.Code.ImageUri == nil && f.Zip == nil {
				reasons = append(reasons, "code: no zip given; the object must already be in s3://"+aws.ToString(f.Input.Code.S3Bucket)+"/"+aws.ToString(f.Input.Code.S3Key))
			}
			p.add(&Action{Op: OpCreate, Kind: KindFunction, Name: f.Name, Block: f.Block, Reasons: reasons, run: func(ctx context.Context) error {
				if err := p.uploadCode(ctx, f); err != nil {
					return err
				}
				return retry(ctx, p.retry, "CreateFunction", func() error {
					_, err := p.c.Lambda.CreateFunction(ctx, f.Input)
					return err
				})
			}})
			continue
		}
		if err != nil {
			return fmt.Errorf("function %s: %w", f.Name, err)
		}
		if !p.owned(out.Tags) {
			p.conflict(KindFunction, f.Name, f.Block, out.Tags)
			continue
		}
		codeChanged, codeReason := codeDiff(f, out)
		config := configDiff(f.Input, out.Configuration)
		tags := tagDiff(f.Input.Tags, out.Tags)
		var reasons []string
		if codeChanged {
			reasons = append(reasons, codeReason)
		}
		if len(config) > 0 {
			reasons = append(reasons, "configuration: "+joinComma(config))
		}
		if len(tags) > 0 {
			reasons = append(reasons, tagReason(tags))
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindFunction, Name: f.Name, Block: f.Block})
			continue
		}
		arn := aws.ToString(out.Configuration.FunctionArn)
		p.add(&Action{Op: OpUpdate, Kind: KindFunction, Name: f.Name, Block: f.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if codeChanged {
				if err := p.uploadCode(ctx, f); err != nil {
					return err
				}
				in := &lambda.UpdateFunctionCodeInput{FunctionName: f.Input.FunctionName, Architectures: f.Input.Architectures}
				if f.Input.Code.ImageUri != nil {
					in.ImageUri = f.Input.Code.ImageUri
				} else {
					in.S3Bucket, in.S3Key = f.Input.Code.S3Bucket, f.Input.Code.S3Key
				}
				if err := retry(ctx, p.retry, "UpdateFunctionCode", func() error {
					_, err := p.c.Lambda.UpdateFunctionCode(ctx, in)
					return err
				}); err != nil {
					return err
				}
			}
			if len(config) > 0 {
				in := &lambda.UpdateFunctionConfigurationInput{
					FunctionName: f.Input.FunctionName, Role: f.Input.Role, Description: f.Input.Description,
					Runtime: f.Input.Runtime, Handler: f.Input.Handler, MemorySize: f.Input.MemorySize, Timeout: f.Input.Timeout,
					Environment: f.Input.Environment, LoggingConfig: f.Input.LoggingConfig,
				}
				if in.Environment == nil {
					in.Environment = &lambdatypes.Environment{Variables: map[string]string{}}
				}
				if err := retry(ctx, p.retry, "UpdateFunctionConfiguration", func() error {
					_, err := p.c.Lambda.UpdateFunctionConfiguration(ctx, in)
					return err
				}); err != nil {
					return err
				}
			}
			if len(tags) > 0 {
				_, err := p.c.Lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: f.Input.Tags})
				return err
			}
			return nil
		}})
	}
	return nil
}

// codeDiff says whether the function's code differs from what it runs.
func codeDiff(f Function, out *lambda.GetFunctionOutput) (bool, string) {
	c := out.Configuration
	if f.Input.Code != nil && f.Input.Code.ImageUri != nil {
		have := ""
		if out.Code != nil {
			have = aws.ToString(out.Code.ImageUri)
		}
		if have != aws.ToString(f.Input.Code.ImageUri) {
			return true, fmt.Sprintf("code: image %s -> %s", have, aws.ToString(f.Input.Code.ImageUri))
		}
		return false, ""
	}
	if !slices.Equal(c.Architectures, f.Input.Architectures) {
		return true, fmt.Sprintf("code: architectures %v -> %v", c.Architectures, f.Input.Architectures)
	}
	if f.Zip != nil && aws.ToString(c.CodeSha256) != f.CodeSHA256 {
		return true, fmt.Sprintf("code: sha256 %s -> %s", short(aws.ToString(c.CodeSha256)), short(f.CodeSHA256))
	}
	return false, ""
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// configDiff names the configuration fields that differ.
func configDiff(want *lambda.CreateFunctionInput, have *lambdatypes.FunctionConfiguration) []string {
	var out []string
	cmp := func(name string, w, h any) {
		if fmt.Sprint(w) != fmt.Sprint(h) {
			out = append(out, fmt.Sprintf("%s %v -> %v", name, h, w))
		}
	}
	cmp("Role", aws.ToString(want.Role), aws.ToString(have.Role))
	cmp("Description", aws.ToString(want.Description), aws.ToString(have.Description))
	if want.Code == nil || want.Code.ImageUri == nil {
		cmp("Runtime", want.Runtime, have.Runtime)
		cmp("Handler", aws.ToString(want.Handler), aws.ToString(have.Handler))
	}
	cmp("MemorySize", aws.ToInt32(want.MemorySize), aws.ToInt32(have.MemorySize))
	cmp("Timeout", aws.ToInt32(want.Timeout), aws.ToInt32(have.Timeout))
	var wv, hv map[string]string
	if want.Environment != nil {
		wv = want.Environment.Variables
	}
	if have.Environment != nil {
		hv = have.Environment.Variables
	}
	if len(wv) != len(hv) || !maps.Equal(wv, hv) {
		out = append(out, "Environment")
	}
	if want.LoggingConfig != nil {
		var hf lambdatypes.LogFormat
		hg := ""
		if have.LoggingConfig != nil {
			hf, hg = have.LoggingConfig.LogFormat, aws.ToString(have.LoggingConfig.LogGroup)
		}
		cmp("LogFormat", want.LoggingConfig.LogFormat, hf)
		cmp("LogGroup", aws.ToString(want.LoggingConfig.LogGroup), hg)
	}
	return out
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// uploadCode puts the function's zip where its configuration says, unless
// an object with the same sha256 is already there.
func (p *planner) uploadCode(ctx context.Context, f Function) error {
	if f.Zip == nil || f.Input.Code == nil || f.Input.Code.S3Bucket == nil {
		return nil
	}
	sum := sha256.Sum256(f.Zip)
	hexSum := hex.EncodeToString(sum[:])
	bucket, key := f.Input.Code.S3Bucket, f.Input.Code.S3Key
	head, err := p.c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if err == nil && head.Metadata["sha256"] == hexSum {
		return nil
	}
	if err != nil && errorCode(err) != "NotFound" && errorCode(err) != "NoSuchKey" {
		return fmt.Errorf("code of %s: %w", f.Name, err)
	}
	_, err = p.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytesReader(f.Zip),
		ContentType: aws.String("application/zip"), Metadata: map[string]string{"sha256": hexSum}})
	if err != nil {
		return fmt.Errorf("uploading the code of %s to s3://%s/%s: %w", f.Name, aws.ToString(bucket), aws.ToString(key), err)
	}
	return nil
}

// triggers: the trigger function may be invoked by S3, and the staging
// bucket notifies it of each object created under a collection's prefix.
func (p *planner) triggers(ctx context.Context) error {
	byBucket := map[string][]Trigger{}
	var buckets []string
	functions := map[string]bool{}
	var fnames []string
	for _, t := range p.want.Triggers {
		if byBucket[t.Bucket] == nil {
			buckets = append(buckets, t.Bucket)
		}
		byBucket[t.Bucket] = append(byBucket[t.Bucket], t)
		if !functions[t.Function+"\x00"+t.Bucket] {
			functions[t.Function+"\x00"+t.Bucket] = true
			fnames = append(fnames, t.Function+"\x00"+t.Bucket)
		}
	}
	for _, fb := range fnames {
		fn, bucket := splitNul(fb)
		if err := p.permission(ctx, fn, bucket); err != nil {
			return err
		}
	}
	for _, b := range buckets {
		if err := p.notification(ctx, b, byBucket[b]); err != nil {
			return err
		}
	}
	return nil
}

func splitNul(s string) (string, string) {
	for i := range s {
		if s[i] == 0 {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func statementID(bucket string) string { return "cumulus-s3-" + bucket }

func (p *planner) permission(ctx context.Context, fn, bucket string) error {
	name := fn + "/" + statementID(bucket)
	out, err := p.c.Lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if err != nil && errorCode(err) != "ResourceNotFoundException" {
		return fmt.Errorf("policy of %s: %w", fn, err)
	}
	if err == nil {
		var pol struct {
			Statement []struct{ Sid string }
		}
		if jerr := json.Unmarshal([]byte(aws.ToString(out.Policy)), &pol); jerr != nil {
			return fmt.Errorf("policy of %s: %w", fn, jerr)
		}
		for _, s := range pol.Statement {
			if s.Sid == statementID(bucket) {
				p.add(&Action{Op: OpUnchanged, Kind: KindPermission, Name: name, Block: "platform"})
				return nil
			}
		}
	}
	p.add(&Action{Op: OpCreate, Kind: KindPermission, Name: name, Block: "platform", Reasons: []string{"s3:" + bucket + " may invoke " + fn},
		run: func(ctx context.Context) error {
			_, err := p.c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{
				FunctionName: aws.String(fn), StatementId: aws.String(statementID(bucket)), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::" + bucket), SourceAccount: aws.String(p.want.Account),
			})
			if errorCode(err) == "ResourceConflictException" && !eventuallyConsistent(err) {
				return nil // the statement exists already
			}
			return err
		}})
	return nil
}

func (p *planner) functionARN(name string) string {
	return "arn:aws:lambda:" + p.want.Region + ":" + p.want.Account + ":function:" + name
}

func (p *planner) notification(ctx context.Context, bucket string, want []Trigger) error {
	var have []s3types.LambdaFunctionConfiguration
	var keep s3types.NotificationConfiguration
	out, err := p.c.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	switch code := errorCode(err); {
	case err == nil:
		keep = s3types.NotificationConfiguration{TopicConfigurations: out.TopicConfigurations, QueueConfigurations: out.QueueConfigurations, EventBridgeConfiguration: out.EventBridgeConfiguration}
		for _, c := range out.LambdaFunctionConfigurations {
			if len(aws.ToString(c.Id)) > 8 && aws.ToString(c.Id)[:8] == "cumulus-" {
				have = append(have, c)
			} else {
				keep.LambdaFunctionConfigurations = append(keep.LambdaFunctionConfigurations, c)
			}
		}
	case code == "NoSuchBucket" || code == "NotFound":
		// The bucket is created first by this plan.
	default:
		return fmt.Errorf("notifications of %s: %w", bucket, err)
	}
	var desired []s3types.LambdaFunctionConfiguration
	for _, t := range want {
		desired = append(desired, s3types.LambdaFunctionConfiguration{
			Id: aws.String(t.ID), LambdaFunctionArn: aws.String(p.functionARN(t.Function)),
			Events: []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: filterRules(t)}},
		})
	}
	if canonicalNotifications(desired) == canonicalNotifications(have) {
		p.add(&Action{Op: OpUnchanged, Kind: KindNotification, Name: bucket, Block: "platform"})
		return nil
	}
	op, reasons := OpUpdate, []string{fmt.Sprintf("%d cumulus notifications -> %d", len(have), len(desired))}
	if len(have) == 0 {
		op, reasons = OpCreate, []string{fmt.Sprintf("granule manifests created under %d collection prefixes invoke %s", len(desired), want[0].Function)}
	}
	p.add(&Action{Op: op, Kind: KindNotification, Name: bucket, Block: "platform", Reasons: reasons, run: func(ctx context.Context) error {
		conf := keep
		conf.LambdaFunctionConfigurations = append(append([]s3types.LambdaFunctionConfiguration{}, keep.LambdaFunctionConfigurations...), desired...)
		return retry(ctx, p.retry, "PutBucketNotificationConfiguration", func() error {
			_, err := p.c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket), NotificationConfiguration: &conf})
			return err
		})
	}})
	return nil
}

func canonicalNotifications(cs []s3types.LambdaFunctionConfiguration) string {
	type one struct {
		ID, ARN, Prefix string
		Events          []string
	}
	var list []one
	for _, c := range cs {
		o := one{ID: aws.ToString(c.Id), ARN: aws.ToString(c.LambdaFunctionArn)}
		for _, e := range c.Events {
			o.Events = append(o.Events, string(e))
		}
		slices.Sort(o.Events)
		if c.Filter != nil && c.Filter.Key != nil {
			for _, r := range c.Filter.Key.FilterRules {
				o.Prefix += strings.ToLower(string(r.Name)) + "=" + aws.ToString(r.Value) + ";"
			}
		}
		list = append(list, o)
	}
	slices.SortFunc(list, func(a, b one) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	b, _ := json.Marshal(list)
	return string(b)
}

func filterRules(t Trigger) []s3types.FilterRule {
	rules := []s3types.FilterRule{{Name: s3types.FilterRuleNamePrefix, Value: aws.String(t.Prefix)}}
	if t.Suffix != "" {
		rules = append(rules, s3types.FilterRule{Name: s3types.FilterRuleNameSuffix, Value: aws.String(t.Suffix)})
	}
	return rules
}
