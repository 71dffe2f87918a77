package iam

import (
	"fmt"
	"testing"
)

func TestECRRepository(t *testing.T) {
	for image, want := range map[string]string{
		"123456789012.dkr.ecr.us-west-2.amazonaws.com/daac/pre:1.2":   "arn:aws:ecr:us-west-2:123456789012:repository/daac/pre",
		"123456789012.dkr.ecr.us-west-2.amazonaws.com/pre@sha256:abc": "arn:aws:ecr:us-west-2:123456789012:repository/pre",
		"ghcr.io/cumulus-toolchain/cumulus:0.1.0":                     "",
		"daac/preprocess:1":    "",
		"localhost:5000/pre:1": "",
		"123456789012.dkr.ecr.eu-central-1.amazonaws.com/a/b/c": "arn:aws:ecr:eu-central-1:123456789012:repository/a/b/c",
	} {
		got, ok := ecrRepository(image)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("%s: %q, want %q", image, got, want)
		}
	}
}

// TestWiden: resources are merged per bucket to their common prefix, and
// list conditions likewise; a policy that is already one resource per
// bucket is left alone.
func TestWiden(t *testing.T) {
	r := &Role{Create: &CreateRoleInput{RoleName: "r"}}
	r.add(PolicyS3, []*Statement{
		{Sid: "ReadObjects", Effect: "Allow", Action: []string{S3Get}, Resource: []string{
			"arn:aws:s3:::stage/col_a/*", "arn:aws:s3:::stage/col_b/*", "arn:aws:s3:::arch/x/2013/*",
		}},
		{Sid: "ListArchiveA", Effect: "Allow", Action: []string{S3List}, Resource: []string{"arn:aws:s3:::arch"},
			Condition: map[string]map[string]any{"StringLike": {"s3:prefix": []any{"x/a*", "x/b*"}}}},
	})
	if !widen(r) {
		t.Fatal("widen changed nothing")
	}
	st := r.Policies[0].Doc.Statement
	if got := fmt.Sprint(st[0].Resource); got != "[arn:aws:s3:::stage/col_* arn:aws:s3:::arch/x/2013/*]" {
		t.Errorf("resources %s", got)
	}
	if got := fmt.Sprint(st[1].Condition["StringLike"]["s3:prefix"]); got != "[x/*]" {
		t.Errorf("list prefixes %s", got)
	}
	if widen(r) {
		t.Error("widening twice changed something")
	}
}
