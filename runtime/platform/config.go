package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
)

// LoadConfig reads the deployed configuration from the private bucket and
// checks it as `cumulus validate` would; env is the process environment,
// for sensitive variables.
func LoadConfig(ctx context.Context, client Objects, bucket string, env []string) (*lang.Config, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(layout.ConfigKey)})
	if err != nil {
		return nil, fmt.Errorf("reading the deployed configuration s3://%s/%s (deploy puts it there): %w", bucket, layout.ConfigKey, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the deployed configuration: %w", err)
	}
	var b layout.ConfigBundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("s3://%s/%s is not a configuration bundle: %w", bucket, layout.ConfigKey, err)
	}
	srcs := map[string][]byte{}
	for name, text := range b.Files {
		srcs[name] = []byte(text)
	}
	cfg, diags := lang.LoadSources(".", srcs, lang.Options{Vars: b.Vars, Env: env})
	if diags.HasErrors() {
		return nil, fmt.Errorf("the deployed configuration does not load here: %w", diags)
	}
	return cfg, nil
}
