package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// KindInstanceProfile is an IAM instance profile.
const KindInstanceProfile = "iam-instance-profile"

// ec2Trusted says whether a role's trust policy lets EC2 assume it: such a
// role (a Data Pipeline worker's, PREFIX-PIPELINE-dpres) reaches its
// instances through an instance profile of the same name, which the
// pipeline definition names.
func ec2Trusted(r Role) bool {
	var doc struct {
		Statement []struct {
			Principal struct {
				Service any
			}
		}
	}
	if json.Unmarshal([]byte(aws.ToString(r.Input.AssumeRolePolicyDocument)), &doc) != nil {
		return false
	}
	for _, st := range doc.Statement {
		switch s := st.Principal.Service.(type) {
		case string:
			if s == "ec2.amazonaws.com" {
				return true
			}
		case []any:
			if slices.Contains(s, any("ec2.amazonaws.com")) {
				return true
			}
		}
	}
	return false
}

// instanceProfiles gives each role EC2 assumes its instance profile.
func (p *planner) instanceProfiles(ctx context.Context) error {
	for _, r := range p.want.Roles {
		if !ec2Trusted(r) {
			continue
		}
		name := r.Name
		out, err := p.c.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
		if errorCode(err) == "NoSuchEntity" {
			p.add(&Action{Op: OpCreate, Kind: KindInstanceProfile, Name: name, Block: r.Block, Reasons: []string{"for role " + name}, run: func(ctx context.Context) error {
				_, err := p.c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Tags: r.Input.Tags})
				if err != nil && errorCode(err) != "EntityAlreadyExists" {
					return err
				}
				// A role just created may not be visible to the profile yet.
				return retry(ctx, p.retry, "AddRoleToInstanceProfile", func() error {
					_, err := p.c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
					if errorCode(err) == "LimitExceeded" {
						return nil // it holds its role from an earlier, interrupted apply
					}
					return err
				})
			}})
			continue
		}
		if err != nil {
			return fmt.Errorf("instance profile %s: %w", name, err)
		}
		tags := iamTagMap(out.InstanceProfile.Tags)
		if !p.owned(tags) {
			p.conflict(KindInstanceProfile, name, r.Block, tags)
			continue
		}
		var roles []string
		for _, x := range out.InstanceProfile.Roles {
			roles = append(roles, aws.ToString(x.RoleName))
		}
		if slices.Equal(roles, []string{name}) {
			p.add(&Action{Op: OpUnchanged, Kind: KindInstanceProfile, Name: name, Block: r.Block})
			continue
		}
		p.add(&Action{Op: OpUpdate, Kind: KindInstanceProfile, Name: name, Block: r.Block,
			Reasons: []string{fmt.Sprintf("roles [%s] -> [%s]", strings.Join(roles, ","), name)}, run: func(ctx context.Context) error {
				for _, other := range roles {
					if _, err := p.c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(other)}); err != nil {
						return err
					}
				}
				_, err := p.c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
				return err
			}})
	}
	return nil
}

// pruneIAM deletes the roles (with their inline policies and instance
// profiles) this configuration owns and no longer declares. They go after
// everything that used them.
func (p *planner) pruneIAM(ctx context.Context, del func(string, string, func(context.Context) error)) error {
	wanted := map[string]bool{}
	for _, r := range p.want.Roles {
		wanted[r.Name] = true
	}
	pg := iam.NewListRolesPaginator(p.c.IAM, &iam.ListRolesInput{})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing roles: %w", err)
		}
		for _, r := range out.Roles {
			name := aws.ToString(r.RoleName)
			if wanted[name] || !strings.HasPrefix(name, p.want.Prefix+"-") {
				continue
			}
			// ListRoles leaves tags out: ownership is read per role.
			full, err := p.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("role %s: %w", name, err)
			}
			if !p.owned(iamTagMap(full.Role.Tags)) {
				continue
			}
			profiles, err := p.c.IAM.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("role %s: instance profiles: %w", name, err)
			}
			var owned []iamtypes.InstanceProfile
			for _, ip := range profiles.InstanceProfiles {
				owned = append(owned, ip)
				if aws.ToString(ip.InstanceProfileName) == name && p.owned(iamTagMap(ip.Tags)) {
					del(KindInstanceProfile, name, nil)
				}
			}
			del(KindRole, name, func(ctx context.Context) error { return p.deleteRole(ctx, name, owned) })
		}
	}
	return nil
}

// deleteRole takes a role out of its instance profiles (deleting the one
// of its own name), deletes its inline policies, then the role.
func (p *planner) deleteRole(ctx context.Context, name string, profiles []iamtypes.InstanceProfile) error {
	for _, ip := range profiles {
		pn := ip.InstanceProfileName
		if _, err := p.c.IAM.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: pn, RoleName: aws.String(name)}); err != nil && errorCode(err) != "NoSuchEntity" {
			return err
		}
		if aws.ToString(pn) == name && p.owned(iamTagMap(ip.Tags)) {
			if _, err := p.c.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: pn}); err != nil && errorCode(err) != "NoSuchEntity" {
				return err
			}
		}
	}
	pols, err := p.c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return err
	}
	for _, pol := range pols.PolicyNames {
		if _, err := p.c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pol)}); err != nil {
			return err
		}
	}
	_, err = p.c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	return err
}
