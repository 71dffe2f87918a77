package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type role struct {
	name, path, description, trust string
	tags                           []iamTag
	policies                       map[string]string
}

// profile is an instance profile: a role EC2 instances run with.
type profile struct {
	name  string
	tags  []iamTag
	roles []string
}

type iamTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// queryToDoc turns awsQuery parameters (Tags.member.1.Key=...) into the
// operation's input document, for the model check.
func queryToDoc(form url.Values) obj {
	root := obj{}
	for key, vals := range form {
		if key == "Action" || key == "Version" {
			continue
		}
		parts := strings.Split(key, ".")
		cur := root
		for i, p := range parts {
			if p == "member" {
				continue
			}
			if i == len(parts)-1 {
				cur[p] = vals[0]
				break
			}
			if parts[i+1] == "member" && i+2 < len(parts) {
				p = p + "\x00list"
			}
			next, ok := cur[p].(obj)
			if !ok {
				next = obj{}
				cur[p] = next
			}
			cur = next
		}
	}
	return listify(root).(obj)
}

// listify turns the maps marked as lists (their key ends in "\x00list",
// their members keyed by index) into lists.
func listify(v any) any {
	o, ok := v.(obj)
	if !ok {
		return v
	}
	out := obj{}
	for k, x := range o {
		if name, isList := strings.CutSuffix(k, "\x00list"); isList {
			m := x.(obj)
			idx := make([]int, 0, len(m))
			for i := range m {
				n, _ := strconv.Atoi(i)
				idx = append(idx, n)
			}
			sort.Ints(idx)
			list := []any{}
			for _, n := range idx {
				list = append(list, listify(m[strconv.Itoa(n)]))
			}
			out[name] = list
			continue
		}
		out[k] = listify(x)
	}
	return out
}

func writeIAMError(w http.ResponseWriter, e *Error) {
	status := e.Status
	switch e.Code {
	case "NoSuchEntity":
		status = 404
	case "EntityAlreadyExists":
		status = 409
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, e.Code, xmlEscape(e.Message))
}

func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeIAMError(w, &Error{Status: 400, Code: "MalformedQueryString", Message: err.Error()})
		return
	}
	op := form.Get("Action")
	in := queryToDoc(form)
	if e := s.begin("iam", op, in); e != nil {
		writeIAMError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	result, e := s.iam(op, in)
	if e != nil {
		writeIAMError(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`, op, op, result, op, op)
}

func (s *Server) roleXML(r *role) string {
	b, _ := xml.Marshal(struct {
		XMLName                  xml.Name `xml:"Role"`
		Path                     string   `xml:"Path"`
		RoleName                 string   `xml:"RoleName"`
		RoleID                   string   `xml:"RoleId"`
		Arn                      string   `xml:"Arn"`
		CreateDate               string   `xml:"CreateDate"`
		AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument"`
		Description              string   `xml:"Description,omitempty"`
		Tags                     []iamTag `xml:"Tags>member"`
	}{Path: r.path, RoleName: r.name, RoleID: "AROAFAKE" + strings.ToUpper(r.name), Arn: "arn:aws:iam::" + s.Account + ":role" + r.path + r.name,
		CreateDate: "2026-01-01T00:00:00Z", AssumeRolePolicyDocument: url.QueryEscape(r.trust), Description: r.description, Tags: r.tags})
	return string(b)
}

func tagsOf(in obj) []iamTag {
	var out []iamTag
	list, _ := in["Tags"].([]any)
	for _, t := range list {
		t := t.(obj)
		out = append(out, iamTag{Key: str(t, "Key"), Value: str(t, "Value")})
	}
	return out
}

func (s *Server) iam(op string, in obj) (string, *Error) {
	if out, e, ok := s.iamOther(op, in); ok {
		return out, e
	}
	name := str(in, "RoleName")
	r := s.st.roles[name]
	if r == nil && op != "CreateRole" {
		return "", notFound("NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	switch op {
	case "CreateRole":
		if r != nil {
			return "", notFound("EntityAlreadyExists", "Role with name %s already exists.", name)
		}
		path := str(in, "Path")
		if path == "" {
			path = "/"
		}
		r = &role{name: name, path: path, description: str(in, "Description"), trust: str(in, "AssumeRolePolicyDocument"), tags: tagsOf(in), policies: map[string]string{}}
		s.st.roles[name] = r
		return s.roleXML(r), nil
	case "GetRole":
		return s.roleXML(r), nil
	case "UpdateRole":
		r.description = str(in, "Description")
		return "", nil
	case "UpdateAssumeRolePolicy":
		r.trust = str(in, "PolicyDocument")
		return "", nil
	case "TagRole":
		for _, t := range tagsOf(in) {
			found := false
			for i := range r.tags {
				if r.tags[i].Key == t.Key {
					r.tags[i].Value, found = t.Value, true
				}
			}
			if !found {
				r.tags = append(r.tags, t)
			}
		}
		return "", nil
	case "PutRolePolicy":
		r.policies[str(in, "PolicyName")] = str(in, "PolicyDocument")
		return "", nil
	case "GetRolePolicy":
		doc, ok := r.policies[str(in, "PolicyName")]
		if !ok {
			return "", notFound("NoSuchEntity", "The role policy with name %s cannot be found.", str(in, "PolicyName"))
		}
		return fmt.Sprintf("<RoleName>%s</RoleName><PolicyName>%s</PolicyName><PolicyDocument>%s</PolicyDocument>", xmlEscape(name), xmlEscape(str(in, "PolicyName")), xmlEscape(url.QueryEscape(doc))), nil
	case "ListRolePolicies":
		var b strings.Builder
		for _, n := range sortedKeys(r.policies) {
			fmt.Fprintf(&b, "<member>%s</member>", xmlEscape(n))
		}
		return "<PolicyNames>" + b.String() + "</PolicyNames><IsTruncated>false</IsTruncated>", nil
	case "DeleteRolePolicy":
		delete(r.policies, str(in, "PolicyName"))
		return "", nil
	}
	return "", notFound("InvalidAction", "the fake does not implement iam:%s", op)
}

// RolePolicies returns the inline policy names of a role, for tests.
func (s *Server) RolePolicies(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.roles[name]; r != nil {
		return sortedKeys(r.policies)
	}
	return nil
}

func (s *Server) profileXML(p *profile) string {
	var roles strings.Builder
	for _, n := range p.roles {
		if r := s.st.roles[n]; r != nil {
			roles.WriteString("<member>" + strings.TrimSuffix(strings.TrimPrefix(s.roleXML(r), "<Role>"), "</Role>") + "</member>")
		}
	}
	var tags strings.Builder
	for _, t := range p.tags {
		fmt.Fprintf(&tags, "<member><Key>%s</Key><Value>%s</Value></member>", xmlEscape(t.Key), xmlEscape(t.Value))
	}
	return fmt.Sprintf("<InstanceProfile><Path>/</Path><InstanceProfileName>%s</InstanceProfileName><InstanceProfileId>AIPAFAKE%s</InstanceProfileId><Arn>arn:aws:iam::%s:instance-profile/%s</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate><Roles>%s</Roles><Tags>%s</Tags></InstanceProfile>",
		xmlEscape(p.name), strings.ToUpper(xmlEscape(p.name)), s.Account, xmlEscape(p.name), roles.String(), tags.String())
}

// iamOther answers the operations on instance profiles and on the set of
// roles; ok is false for the operations on one role.
func (s *Server) iamOther(op string, in obj) (string, *Error, bool) {
	pname := str(in, "InstanceProfileName")
	p := s.st.profiles[pname]
	missing := notFound("NoSuchEntity", "Instance Profile %s cannot be found.", pname)
	switch op {
	case "CreateInstanceProfile":
		if p != nil {
			return "", notFound("EntityAlreadyExists", "Instance Profile %s already exists.", pname), true
		}
		p = &profile{name: pname, tags: tagsOf(in)}
		s.st.profiles[pname] = p
		return s.profileXML(p), nil, true
	case "GetInstanceProfile":
		if p == nil {
			return "", missing, true
		}
		return s.profileXML(p), nil, true
	case "AddRoleToInstanceProfile":
		if p == nil {
			return "", missing, true
		}
		if s.st.roles[str(in, "RoleName")] == nil {
			return "", notFound("NoSuchEntity", "The role with name %s cannot be found.", str(in, "RoleName")), true
		}
		if len(p.roles) > 0 {
			return "", &Error{Status: 409, Code: "LimitExceeded", Message: "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"}, true
		}
		p.roles = []string{str(in, "RoleName")}
		return "", nil, true
	case "RemoveRoleFromInstanceProfile":
		if p == nil {
			return "", missing, true
		}
		p.roles = slices.DeleteFunc(p.roles, func(r string) bool { return r == str(in, "RoleName") })
		return "", nil, true
	case "DeleteInstanceProfile":
		if p == nil {
			return "", missing, true
		}
		if len(p.roles) > 0 {
			return "", &Error{Status: 409, Code: "DeleteConflict", Message: "Cannot delete entity, must remove roles from instance profile first."}, true
		}
		delete(s.st.profiles, pname)
		return "", nil, true
	case "ListInstanceProfilesForRole":
		var b strings.Builder
		for _, n := range sortedKeys(s.st.profiles) {
			if slices.Contains(s.st.profiles[n].roles, str(in, "RoleName")) {
				b.WriteString("<member>" + strings.TrimSuffix(strings.TrimPrefix(s.profileXML(s.st.profiles[n]), "<InstanceProfile>"), "</InstanceProfile>") + "</member>")
			}
		}
		return "<InstanceProfiles>" + b.String() + "</InstanceProfiles><IsTruncated>false</IsTruncated>", nil, true
	case "ListRoles":
		var b strings.Builder
		for _, n := range sortedKeys(s.st.roles) {
			b.WriteString("<member>" + strings.TrimSuffix(strings.TrimPrefix(s.roleXML(s.st.roles[n]), "<Role>"), "</Role>") + "</member>")
		}
		return "<Roles>" + b.String() + "</Roles><IsTruncated>false</IsTruncated>", nil, true
	case "DeleteRole":
		r := s.st.roles[str(in, "RoleName")]
		if r == nil {
			return "", notFound("NoSuchEntity", "The role with name %s cannot be found.", str(in, "RoleName")), true
		}
		for _, p := range s.st.profiles {
			if slices.Contains(p.roles, r.name) {
				return "", &Error{Status: 409, Code: "DeleteConflict", Message: "Cannot delete entity, must remove roles from instance profile first."}, true
			}
		}
		if len(r.policies) > 0 {
			return "", &Error{Status: 409, Code: "DeleteConflict", Message: "Cannot delete entity, must delete policies first."}, true
		}
		delete(s.st.roles, r.name)
		return "", nil, true
	}
	return "", nil, false
}

// InstanceProfiles returns the instance profiles and their roles
// ("NAME: ROLE"), for tests.
func (s *Server) InstanceProfiles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range sortedKeys(s.st.profiles) {
		out = append(out, n+": "+strings.Join(s.st.profiles[n].roles, ","))
	}
	return out
}

// Roles returns the names of the roles, for tests.
func (s *Server) Roles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.st.roles)
}
