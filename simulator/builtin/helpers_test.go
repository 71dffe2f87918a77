package builtin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/s3local"
)

// Bucket names of testConfig.
const (
	stagingBucket   = "test-staging"
	protectedBucket = "test-protected"
	publicBucket    = "test-public"
)

// testConfig is a collection shaped like HS3's HAMSR: a data file, its MD5
// sidecar kept in staging, and a browse image with a url_path of its own
// that calls a function (so Graph.Eval takes its expression path, while
// the collection's url_path is a plain template).
const testConfig = `
bucket "staging" {
  kind = "private"
  name = "test-staging"
}
bucket "protected" {
  kind = "protected"
  name = "test-protected"
}
bucket "public" {
  kind = "public"
  name = "test-public"
}

collection "hamsr" {
  version    = "1"
  granule_id = "^(HS3_HAMSR_[0-9]{8}T[0-9]{6})"
  file "data" {
    match  = "\\.nc$"
    bucket = bucket.protected
  }
  file "md5" {
    match        = "\\.nc\\.md5$"
    bucket       = bucket.staging
    checksum_for = "data"
    required     = false
  }
  file "browse" {
    match    = "\\.png$"
    bucket   = bucket.public
    required = false
    url_path = "hamsr/browse/${granule.year}/${trimsuffix(file.name, ".png")}"
  }
  url_path   = "hamsr/${granule.year}/${granule.doy}/${granule.id}"
  duplicates = "error"
}
`

const granuleID = "HS3_HAMSR_20130825T000000"

// Archive keys testConfig gives the granule's files.
const (
	dataKey   = "hamsr/2013/237/" + granuleID + "/" + granuleID + ".nc"
	browseKey = "hamsr/browse/2013/" + granuleID + "/" + granuleID + ".png"
)

func buildGraph(t testing.TB, src string) *graph.Graph {
	t.Helper()
	cfg, diags := lang.LoadSources("builtin", map[string][]byte{"main.cumulus.hcl": []byte(src)}, lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, diags := graph.Build(cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return g
}

// newS3 starts the simulator's embedded S3 endpoint (simulator/s3local)
// in a folder of the test's and returns an SDK client for it, with the
// given buckets created: the steps talk to a real S3 API over HTTP through
// the same client the simulator and the platform use.
func newS3(t testing.TB, buckets ...string) *s3.Client {
	t.Helper()
	ctx := t.Context()
	srv, err := s3local.Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	client, err := s3local.Client(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s3local.EnsureBuckets(ctx, client, buckets); err != nil {
		t.Fatal(err)
	}
	return client
}

// fixture is one test's world: an endpoint with testConfig's buckets, the
// graph, and an Env with a fixed clock.
type fixture struct {
	t   testing.TB
	ctx context.Context
	s3  *s3.Client
	env Env
}

var testNow = time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)

func newFixture(t testing.TB, config string) *fixture {
	t.Helper()
	client := newS3(t, stagingBucket, protectedBucket, publicBucket)
	return &fixture{
		t:   t,
		ctx: t.Context(),
		s3:  client,
		env: Env{
			S3:              client,
			Graph:           buildGraph(t, config),
			Clock:           ClockFunc(func() time.Time { return testNow }),
			DistributionURL: "https://data.example.org/",
			StagingBucket:   stagingBucket,
		},
	}
}

func (fx *fixture) put(bucket, key, body string) {
	fx.t.Helper()
	_, err := fx.s3.PutObject(fx.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		fx.t.Fatal(err)
	}
}

// get returns the object's content, or ok false when it does not exist.
func (fx *fixture) get(bucket, key string) (string, bool) {
	fx.t.Helper()
	out, err := fx.s3.GetObject(fx.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return "", false
	}
	if err != nil {
		fx.t.Fatal(err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, out.Body); err != nil {
		fx.t.Fatal(err)
	}
	return b.String(), true
}

// keys lists a bucket, sorted.
func (fx *fixture) keys(bucket string) []string {
	fx.t.Helper()
	objs, err := listKeys(fx.ctx, fx.s3, bucket, "")
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	sort.Strings(out)
	return out
}

// stage puts a file in staging, as acquisition does, and returns its
// record.
func (fx *fixture) stage(name, typ, body string) contract.File {
	fx.t.Helper()
	key := "incoming/" + granuleID + "/" + name
	fx.put(stagingBucket, key, body)
	return contract.File{Name: name, Type: typ, Bucket: stagingBucket, Key: key, Size: int64(len(body)),
		Source: "ftp://ftp.example.org/pub/hs3/hamsr/" + name}
}

const (
	dataBody   = "hello\n"
	dataMD5    = "b1946ac92492d2347c6235b4d2611184"
	browseBody = "\x89PNG browse"
)

// stageGranule stages the usual granule: data, its sidecar (md5sum
// format), a browse image.
func (fx *fixture) stageGranule() contract.Granule {
	fx.t.Helper()
	return contract.Granule{
		ID: granuleID, Collection: "hamsr", Version: "1", Date: "2013-08-25",
		Files: []contract.File{
			fx.stage(granuleID+".nc", "data", dataBody),
			fx.stage(granuleID+".nc.md5", "md5", dataMD5+"  "+granuleID+".nc\n"),
			fx.stage(granuleID+".png", "browse", browseBody),
		},
	}
}

func (fx *fixture) run(step Func, g contract.Granule, with map[string]any) (contract.Result, error) {
	fx.t.Helper()
	return step(fx.ctx, fx.env, contract.Input{Pipeline: "ingest", Step: "s", Attempt: 1, Granule: g, With: with})
}

func (fx *fixture) mustRun(step Func, g contract.Granule, with map[string]any) contract.Result {
	fx.t.Helper()
	res, err := fx.run(step, g, with)
	if err != nil {
		fx.t.Fatal(err)
	}
	return res
}

// wantFatal checks that err is fatal and its message holds every part.
func wantFatal(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	var fe *FatalError
	if !errors.As(err, &fe) || !IsFatal(err) {
		t.Errorf("error is not fatal: %v", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func fileNamed(t *testing.T, g contract.Granule, name string) contract.File {
	t.Helper()
	for _, f := range g.Files {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("granule has no file %q: %+v", name, g.Files)
	return contract.File{}
}
