package lang

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const distBuckets = `
bucket "staging" { kind = "private" }
bucket "protected" { kind = "protected" }
bucket "public" { kind = "public" }
`

// loadDist loads a distribution with the three usual buckets and returns
// its diagnostics as "LINE: Summary" (lines of src, the first being 1).
func loadDist(t *testing.T, src string) (*Config, []string) {
	t.Helper()
	cfg, diags := LoadSources("dist", map[string][]byte{"main.cumulus.hcl": []byte(src), "buckets.cumulus.hcl": []byte(distBuckets)}, Options{})
	var got []string
	for _, d := range diags {
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		got = append(got, fmt.Sprintf("%d: %s: %s", line, sev, d.Summary))
		if d.Detail == "" || strings.Contains(d.Summary, "\n") {
			t.Errorf("diagnostic %q needs a one-line summary and a detail", d.Summary)
		}
	}
	return cfg, got
}

func TestDistributionAuth(t *testing.T) {
	cfg, diags := loadDist(t, `distribution "main" {
  auth {
    users = ["alice", "bob.smith@example.org"]
    oidc {
      issuer     = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE"
      audience   = "1example23456789"
      jwks_url   = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE/.well-known/jwks.json"
      user_claim = "cognito:username"
    }
  }
  bucket "protected" {}
}
`)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	a := cfg.Distributions[0].Auth
	if a == nil || !slices.Equal(a.Users, []string{"alice", "bob.smith@example.org"}) || a.OIDC == nil ||
		a.OIDC.Audience != "1example23456789" || a.OIDC.UserClaim != "cognito:username" || !strings.HasSuffix(a.OIDC.JWKSURL, "jwks.json") {
		t.Errorf("auth = %+v %+v", a, a.OIDC)
	}
	cfg, _ = loadDist(t, `distribution "main" {
  auth {
    oidc {
      issuer   = "http://127.0.0.1:9999"
      audience = "x"
    }
  }
  bucket "protected" {}
}
`)
	if o := cfg.Distributions[0].Auth.OIDC; o.UserClaim != "sub" || o.Issuer != "http://127.0.0.1:9999" {
		t.Errorf("defaults: %+v", o)
	}
}

func TestDistributionDiagnostics(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"password in users", `distribution "main" {
  auth {
    users = ["alice", "bob:hunter2", "carol=pw"]
  }
  bucket "protected" {}
}`, []string{"3: error: Password in configuration", "3: error: Password in configuration"}},
		{"bad and duplicate users", `distribution "main" {
  auth {
    users = ["alice", "alice", "no spaces", ""]
  }
  bucket "protected" {}
}`, []string{"3: error: Duplicate user", "3: error: Invalid user name", "3: error: Invalid user name"}},
		{"oidc missing", `distribution "main" {
  auth {
    oidc {}
  }
  bucket "protected" {}
}`, []string{"3: error: Missing required argument", "3: error: Missing required argument"}},
		{"oidc bad urls", `distribution "main" {
  auth {
    oidc {
      issuer     = "http://login.example.org"
      audience   = ""
      jwks_url   = "not a url"
      user_claim = "no spaces"
    }
  }
  bucket "protected" {}
}`, []string{"4: error: Insecure issuer", "5: error: Empty audience", "6: error: Invalid jwks_url", "7: error: Invalid user_claim"}},
		{"issuer with query", `distribution "main" {
  auth {
    oidc {
      issuer   = "https://login.example.org/?x=1"
      audience = "a"
    }
  }
  bucket "protected" {}
}`, []string{"4: error: Invalid issuer"}},
		{"duplicates", `distribution "main" {
  auth {
    users = ["a"]
    oidc {
      issuer   = "https://login.example.org"
      audience = "a"
    }
    oidc {
      issuer   = "https://login.example.org"
      audience = "a"
    }
  }
  auth {}
  bucket "protected" {}
}`, []string{"8: error: Duplicate oidc block", "13: error: Duplicate auth block"}},
		{"empty and unused", `distribution "main" {
  auth {}
  bucket "public" {}
}`, []string{"2: warning: Empty auth block", "2: warning: Unused auth block"}},
		{"unknown attribute", `distribution "main" {
  auth {
    user = ["a"]
  }
  bucket "protected" {}
}`, []string{"2: warning: Empty auth block", "3: error: Unsupported argument"}},
		{"nested prefix", `distribution "main" {
  bucket "public" {
    prefix = "hs3"
  }
  bucket "protected" {
    prefix = "hs3/protected"
  }
}`, []string{"6: error: Nested prefix"}},
		{"long name", `deployment {
  prefix = "a-rather-long-deployment-prefix"
}
distribution "a_distribution_name_too_long_for_lambda" {
  bucket "protected" {}
}`, []string{"4: error: Name too long for AWS"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := loadDist(t, c.src)
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
