package main

import (
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cumulus-toolchain/cumulus/runtime/deploy/awsfake"
)

// scriptReporter sends the fake's complaints about invalid requests to the
// script's log, and counts them for "awsfake check".
type scriptReporter struct {
	ts      *testscript.TestScript
	invalid *int
}

func (r scriptReporter) Errorf(format string, args ...any) {
	*r.invalid++
	r.ts.Logf("awsfake: "+format, args...)
}

// awsfakeCmd starts a fake AWS (runtime/deploy/awsfake) for account
// 123456789012 in us-west-2 and points the scripts' AWS SDK at it:
// AWS_ENDPOINT_URL, dummy credentials, the region, no shared config.
// Every request it receives is checked against the AWS API models; an
// invalid one is refused and logged. The fake is stopped when the script
// ends. It skips the script when the models are absent.
func awsfakeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: awsfake")
	}
	invalid := 0
	fake, err := awsfake.Start(scriptReporter{ts: ts, invalid: &invalid}, "123456789012", "us-west-2")
	if err != nil {
		ts.Fatalf("awsfake: %v", err)
	}
	ts.Defer(func() {
		fake.Close()
		if invalid > 0 {
			ts.Fatalf("awsfake: %d requests were invalid for the AWS models (see the log)", invalid)
		}
	})
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            fake.URL,
		"AWS_ACCESS_KEY_ID":           "AKIDFAKE",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret",
		"AWS_REGION":                  "us-west-2",
		"AWS_CONFIG_FILE":             ts.MkAbs("no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": ts.MkAbs("no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		ts.Setenv(k, v)
	}
}
