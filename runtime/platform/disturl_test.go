package platform

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
)

// TestDistributionURL: the metadata step finds the distribution's URL by
// its HTTP API's name (the id is made by deploy), once; an explicit
// CUMULUS_DISTRIBUTION_URL wins; an API not deployed is an error the step
// logs, linking s3:// meanwhile.
func TestDistributionURL(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(t, account, region)
	apis := apigatewayv2.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	var d distributionURL
	if _, err := d.get(ctx, apis, env(EnvDistributionAPI, "tp-dist-main")); err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("before deploy: %v", err)
	}
	out, err := apis.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("tp-dist-main"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.get(ctx, apis, env(EnvDistributionAPI, "tp-dist-main"))
	if err != nil || got == "" || got != strings.TrimRight(aws.ToString(out.ApiEndpoint), "/") {
		t.Errorf("url %q (%v), endpoint %q", got, err, aws.ToString(out.ApiEndpoint))
	}
	before := len(fake.Calls())
	if again, _ := d.get(ctx, apis, env(EnvDistributionAPI, "tp-dist-main")); again != got || len(fake.Calls()) != before {
		t.Errorf("the second lookup asked API Gateway again")
	}
	if u, _ := d.get(ctx, apis, env(EnvDistributionAPI, "tp-dist-main", EnvDistributionURL, "https://data.example.org")); u != "https://data.example.org" {
		t.Errorf("the explicit URL did not win: %q", u)
	}
	if u, err := d.get(ctx, apis, env()); u != "" || err != nil {
		t.Errorf("without a distribution: %q %v", u, err)
	}
}
