package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// IAMAPI is what deploy uses of IAM.
type IAMAPI interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateRole(context.Context, *iam.UpdateRoleInput, ...func(*iam.Options)) (*iam.UpdateRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	GetInstanceProfile(context.Context, *iam.GetInstanceProfileInput, ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	CreateInstanceProfile(context.Context, *iam.CreateInstanceProfileInput, ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error)
	AddRoleToInstanceProfile(context.Context, *iam.AddRoleToInstanceProfileInput, ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error)
	RemoveRoleFromInstanceProfile(context.Context, *iam.RemoveRoleFromInstanceProfileInput, ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error)
	DeleteInstanceProfile(context.Context, *iam.DeleteInstanceProfileInput, ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error)
	ListInstanceProfilesForRole(context.Context, *iam.ListInstanceProfilesForRoleInput, ...func(*iam.Options)) (*iam.ListInstanceProfilesForRoleOutput, error)
}

var _ IAMAPI = (*iam.Client)(nil)

// Role is an IAM role of the artifacts and its inline policies.
type Role struct {
	Name     string
	Block    string
	Input    *iam.CreateRoleInput
	Policies []*iam.PutRolePolicyInput
}

// sameJSON says whether two JSON documents (a policy as written, and as
// IAM returns it, URL-encoded and reformatted) mean the same.
func sameJSON(a, b string) bool {
	if d, err := url.QueryUnescape(b); err == nil {
		b = d
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(bx, by)
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// roles come before everything that names them. A role's inline policies
// are its own: one the artifacts no longer have is deleted with it.
func (p *planner) roles(ctx context.Context) error {
	for _, r := range p.want.Roles {
		r := r
		out, err := p.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.Name)})
		if errorCode(err) == "NoSuchEntity" {
			p.add(&Action{Op: OpCreate, Kind: KindRole, Name: r.Name, Block: r.Block, Reasons: []string{inlinePolicies(len(r.Policies))}, run: func(ctx context.Context) error {
				if _, err := p.c.IAM.CreateRole(ctx, r.Input); err != nil && errorCode(err) != "EntityAlreadyExists" {
					return err
				}
				for _, pol := range r.Policies {
					if _, err := p.c.IAM.PutRolePolicy(ctx, pol); err != nil {
						return fmt.Errorf("policy %s: %w", aws.ToString(pol.PolicyName), err)
					}
				}
				return nil
			}})
			continue
		}
		if err != nil {
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
		tags := iamTagMap(out.Role.Tags)
		if !p.owned(tags) {
			p.conflict(KindRole, r.Name, r.Block, tags)
			continue
		}
		var reasons []string
		trust := !sameJSON(aws.ToString(r.Input.AssumeRolePolicyDocument), aws.ToString(out.Role.AssumeRolePolicyDocument))
		if trust {
			reasons = append(reasons, "trust policy differs")
		}
		desc := aws.ToString(r.Input.Description) != aws.ToString(out.Role.Description)
		if desc {
			reasons = append(reasons, "description differs")
		}
		tdiff := tagDiff(iamTagMap(r.Input.Tags), tags)
		if len(tdiff) > 0 {
			reasons = append(reasons, tagReason(tdiff))
		}
		have := map[string]bool{}
		pg := iam.NewListRolePoliciesPaginator(p.c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(r.Name)})
		for pg.HasMorePages() {
			lp, err := pg.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("role %s: policies: %w", r.Name, err)
			}
			for _, n := range lp.PolicyNames {
				have[n] = true
			}
		}
		var put []*iam.PutRolePolicyInput
		for _, pol := range r.Policies {
			name := aws.ToString(pol.PolicyName)
			if !have[name] {
				put = append(put, pol)
				reasons = append(reasons, "policy "+name+": new")
				continue
			}
			delete(have, name)
			gp, err := p.c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(r.Name), PolicyName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("role %s: policy %s: %w", r.Name, name, err)
			}
			if !sameJSON(aws.ToString(pol.PolicyDocument), aws.ToString(gp.PolicyDocument)) {
				put = append(put, pol)
				reasons = append(reasons, "policy "+name+": document differs")
			}
		}
		stale := sortedKeys(have)
		for _, n := range stale {
			reasons = append(reasons, "policy "+n+": no longer in the configuration")
		}
		if len(reasons) == 0 {
			p.add(&Action{Op: OpUnchanged, Kind: KindRole, Name: r.Name, Block: r.Block})
			continue
		}
		p.add(&Action{Op: OpUpdate, Kind: KindRole, Name: r.Name, Block: r.Block, Reasons: reasons, run: func(ctx context.Context) error {
			if trust {
				if _, err := p.c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(r.Name), PolicyDocument: r.Input.AssumeRolePolicyDocument}); err != nil {
					return err
				}
			}
			if desc {
				if _, err := p.c.IAM.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(r.Name), Description: r.Input.Description}); err != nil {
					return err
				}
			}
			if len(tdiff) > 0 {
				if _, err := p.c.IAM.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(r.Name), Tags: r.Input.Tags}); err != nil {
					return err
				}
			}
			for _, pol := range put {
				if _, err := p.c.IAM.PutRolePolicy(ctx, pol); err != nil {
					return fmt.Errorf("policy %s: %w", aws.ToString(pol.PolicyName), err)
				}
			}
			for _, n := range stale {
				if _, err := p.c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(r.Name), PolicyName: aws.String(n)}); err != nil {
					return fmt.Errorf("policy %s: %w", n, err)
				}
			}
			return nil
		}})
	}
	return nil
}

func inlinePolicies(n int) string {
	if n == 1 {
		return "1 inline policy"
	}
	return fmt.Sprintf("%d inline policies", n)
}
