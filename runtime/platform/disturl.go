package platform

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// Environment variables that say where the distribution is, for the
// links of metadata records.
const (
	// EnvDistributionURL, when set, is the distribution's base URL (a
	// custom domain, say) and wins.
	EnvDistributionURL = "CUMULUS_DISTRIBUTION_URL"
	// EnvDistributionAPI names the distribution's HTTP API, whose
	// endpoint is the base URL otherwise.
	EnvDistributionAPI = graph.DistributionAPIEnv
)

// APIs is what finding the distribution's URL needs of API Gateway.
type APIs interface {
	GetApis(ctx context.Context, in *apigatewayv2.GetApisInput, opts ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
}

// distributionURL finds the distribution's URL once per instance: an API
// Gateway id is made when deploy creates the API, so the compiled
// configuration can only name it. A failed lookup is tried again at the
// next step; until one succeeds, records link files by s3:// URLs.
type distributionURL struct {
	mu  sync.Mutex
	url string
}

func (d *distributionURL) get(ctx context.Context, apis APIs, getenv func(string) string) (string, error) {
	if getenv == nil {
		return "", nil
	}
	if u := getenv(EnvDistributionURL); u != "" {
		return u, nil
	}
	name := getenv(EnvDistributionAPI)
	if name == "" || apis == nil {
		return "", nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.url != "" {
		return d.url, nil
	}
	in := &apigatewayv2.GetApisInput{}
	for {
		out, err := apis.GetApis(ctx, in)
		if err != nil {
			return "", fmt.Errorf("finding the distribution's HTTP API %s: %w", name, err)
		}
		for _, a := range out.Items {
			if aws.ToString(a.Name) == name && aws.ToString(a.ApiEndpoint) != "" {
				d.url = strings.TrimRight(aws.ToString(a.ApiEndpoint), "/")
				return d.url, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return "", fmt.Errorf("the distribution's HTTP API %s is not deployed", name)
		}
		in.NextToken = out.NextToken
	}
}
