package s3local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DefaultRegion is the region used when neither the environment nor the
// shared config names one; local endpoints ignore it but the SDK signs
// with it.
const DefaultRegion = "us-east-1"

// Dummy credentials signing requests to an endpoint for which the
// environment has none: the embedded server checks no signature.
const (
	dummyAccessKey = "cumulus"
	dummySecretKey = "cumulus-simulator"
)

// Client builds an S3 client of the AWS SDK for endpoint.
//
// With an endpoint (the embedded server's URL, a MinIO's, any S3 API) the
// client addresses buckets path-style, as such endpoints expect, and takes
// region and credentials from the standard AWS configuration (environment,
// shared files) without asking EC2 instance metadata, which no local
// endpoint's credentials come from; with no credentials configured it
// signs with dummy ones, which the embedded server accepts.
//
// With endpoint "" it is the standard AWS configuration chain throughout,
// so AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (or endpoint_url in the
// shared config) select the endpoint, path-style then too, and without
// them it is AWS itself.
//
// The region defaults to us-east-1 in both cases.
func Client(ctx context.Context, endpoint string) (*s3.Client, error) {
	var load []func(*config.LoadOptions) error
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3local: S3 endpoint %q is not a URL like http://127.0.0.1:9000", endpoint)
		}
		load = append(load, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("s3local: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if endpoint != "" {
		if cfg.Credentials == nil {
			cfg.Credentials = credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, "")
		} else if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("s3local: look up credentials: %w", ctx.Err())
			}
			cfg.Credentials = credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, "")
		}
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Objects without a stored checksum are normal here (the embedded
		// endpoint, MinIO); the SDK would log a line for each download.
		o.DisableLogOutputChecksumValidationSkipped = true
		// An endpoint failing for a while (MinIO restarting, a busy disk)
		// should be ridden out, not fail a granule: more attempts than the
		// SDK's default three, and no retry token bucket, which stops
		// retrying after a burst of failures, just when retries are needed.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 5 * time.Second
			so.RateLimiter = ratelimit.None
		})
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// BaseEndpoint is already resolved from the environment here.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
			if isLoopbackHTTP(*o.BaseEndpoint) {
				o.APIOptions = append(o.APIOptions, addUnsignedPayload)
			}
		}
	}), nil
}

// isLoopbackHTTP reports whether endpoint is plain HTTP to this machine.
// Over TLS the SDK already leaves S3 request bodies out of the signature
// (sending UNSIGNED-PAYLOAD and a checksum); over plain HTTP it hashes each
// body once more with SHA-256 to sign it, which guards a body against
// alteration on the network. On the loopback there is no network to guard
// against, and that hash is a sizeable share of the CPU an upload costs,
// so such clients do as over TLS. The CRC32 checksum each body carries,
// which the endpoint verifies, is unchanged.
//
// (v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware is not enough:
// the checksum middleware, which runs first, computes the SHA-256 along
// with the checksum unless a payload hash is already set.)
func isLoopbackHTTP(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// EnsureBuckets creates each named bucket that does not exist yet. It is
// idempotent: buckets that exist and are ours are left as they are.
func EnsureBuckets(ctx context.Context, client *s3.Client, names []string) error {
	for _, name := range names {
		if err := ensureBucket(ctx, client, name); err != nil {
			return err
		}
	}
	return nil
}

func ensureBucket(ctx context.Context, client *s3.Client, name string) error {
	exists, err := bucketExists(ctx, client, name)
	if err != nil || exists {
		return err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	// us-east-1 is the one region that takes no location constraint.
	if r := client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r)}
	}
	_, err = client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err == nil || errors.As(err, &owned) {
		return nil
	}
	// Someone created it since our HEAD (gofakes3 and MinIO say
	// BucketAlreadyExists even when it is ours): fine if we can reach it.
	var taken *types.BucketAlreadyExists
	if errors.As(err, &taken) {
		if ok, herr := bucketExists(ctx, client, name); herr == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("s3local: create bucket %q: %w", name, err)
}

func bucketExists(ctx context.Context, client *s3.Client, name string) (bool, error) {
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return true, nil
	}
	var nf *types.NotFound
	var api smithy.APIError
	if errors.As(err, &nf) || (errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchBucket")) {
		return false, nil
	}
	return false, fmt.Errorf("s3local: look up bucket %q: %w", name, err)
}

// addUnsignedPayload marks every request's payload unsigned before any
// middleware would hash it.
func addUnsignedPayload(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("cumulus:UnsignedPayload",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if v4.GetPayloadHash(ctx) == "" {
				ctx = v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD")
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.Before)
}
