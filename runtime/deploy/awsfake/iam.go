package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

type role struct {
	name, path, description, trust string
	tags                           []iamTag
	policies                       map[string]string
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
