package awsfake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

type function struct {
	config   obj
	tags     map[string]string
	imageURI string
	policy   []any
}

func (s *Server) writeLambdaError(w http.ResponseWriter, e *Error) {
	status := e.Status
	switch e.Code {
	case "ResourceNotFoundException":
		status = 404
	case "ResourceConflictException":
		status = 409
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(obj{"Type": "User", "Message": e.Message})
}

func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, body []byte) {
	in := obj{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			s.writeLambdaError(w, &Error{Status: 400, Code: "InvalidRequestContentException", Message: err.Error()})
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i])
	}
	op := ""
	switch {
	case len(parts) >= 2 && parts[0] == "2017-03-31" && parts[1] == "tags":
		in["Resource"] = strings.Join(parts[2:], "/")
		op = map[string]string{"GET": "ListTags", "POST": "TagResource"}[r.Method]
	case len(parts) == 2 && parts[1] == "functions":
		op = map[string]string{"GET": "ListFunctions", "POST": "CreateFunction"}[r.Method]
	case len(parts) >= 3 && parts[1] == "functions":
		in["FunctionName"] = parts[2]
		sub := strings.Join(parts[3:], "/")
		op = map[string]string{"GET ": "GetFunction", "DELETE ": "DeleteFunction", "PUT code": "UpdateFunctionCode",
			"PUT configuration": "UpdateFunctionConfiguration", "GET policy": "GetPolicy", "POST policy": "AddPermission"}[r.Method+" "+sub]
		if sid, ok := strings.CutPrefix(sub, "policy/"); ok && r.Method == "DELETE" {
			op, in["StatementId"] = "RemovePermission", sid
		}
	}
	if op == "" {
		s.writeLambdaError(w, &Error{Status: 400, Code: "UnknownOperationException", Message: r.Method + " " + r.URL.Path})
		return
	}
	if e := s.begin("lambda", op, in); e != nil {
		s.writeLambdaError(w, e)
		return
	}
	s.mu.Lock()
	out, status, e := s.lambda(op, in)
	s.mu.Unlock()
	if e != nil {
		s.writeLambdaError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if out != nil {
		_ = json.NewEncoder(w).Encode(out)
	}
}

func (s *Server) codeSHA(code obj) (string, *Error) {
	b, ok := s.st.buckets[str(code, "S3Bucket")]
	if !ok {
		return "", &Error{Status: 400, Code: "InvalidParameterValueException", Message: "Error occurred while GetObject. S3 Error Code: NoSuchBucket."}
	}
	o, ok := b.objects[str(code, "S3Key")]
	if !ok {
		return "", &Error{Status: 400, Code: "InvalidParameterValueException", Message: "Error occurred while GetObject. S3 Error Code: NoSuchKey."}
	}
	sum := sha256.Sum256(o.data)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func (s *Server) lambda(op string, in obj) (any, int, *Error) {
	st := s.st
	name := str(in, "FunctionName")
	fn := st.functions[name]
	if fn == nil && op != "CreateFunction" && op != "ListFunctions" && op != "ListTags" && op != "TagResource" {
		return nil, 0, notFound("ResourceNotFoundException", "Function not found: %s", s.arn("lambda", "function:"+name))
	}
	switch op {
	case "CreateFunction":
		if fn != nil {
			return nil, 0, notFound("ResourceConflictException", "Function already exist: %s", name)
		}
		code, _ := in["Code"].(map[string]any)
		fn = &function{tags: tagMap(in["Tags"]), config: obj{}}
		for k, v := range in {
			if k != "Code" && k != "Tags" && k != "Publish" {
				fn.config[k] = v
			}
		}
		if u := str(code, "ImageUri"); u != "" {
			fn.imageURI = u
			fn.config["CodeSha256"] = "image"
		} else {
			sha, e := s.codeSHA(code)
			if e != nil {
				return nil, 0, e
			}
			fn.config["CodeSha256"] = sha
		}
		fn.config["FunctionArn"] = s.arn("lambda", "function:"+name)
		fn.config["State"], fn.config["LastUpdateStatus"] = "Active", "Successful"
		st.functions[name] = fn
		return fn.config, 201, nil
	case "GetFunction":
		out := obj{"Configuration": fn.config, "Tags": fn.tags}
		if fn.imageURI != "" {
			out["Code"] = obj{"ImageUri": fn.imageURI, "RepositoryType": "ECR"}
		}
		return out, 200, nil
	case "DeleteFunction":
		delete(st.functions, name)
		return nil, 204, nil
	case "UpdateFunctionCode":
		if u := str(in, "ImageUri"); u != "" {
			fn.imageURI = u
		} else {
			sha, e := s.codeSHA(in)
			if e != nil {
				return nil, 0, e
			}
			fn.config["CodeSha256"] = sha
		}
		if a, ok := in["Architectures"]; ok {
			fn.config["Architectures"] = a
		}
		return fn.config, 200, nil
	case "UpdateFunctionConfiguration":
		for k, v := range in {
			fn.config[k] = v
		}
		return fn.config, 200, nil
	case "GetPolicy":
		if len(fn.policy) == 0 {
			return nil, 0, notFound("ResourceNotFoundException", "The resource you requested does not exist.")
		}
		pol, _ := json.Marshal(obj{"Version": "2012-10-17", "Statement": fn.policy})
		return obj{"Policy": string(pol)}, 200, nil
	case "AddPermission":
		for _, st := range fn.policy {
			if str(st.(obj), "Sid") == str(in, "StatementId") {
				return nil, 0, notFound("ResourceConflictException", "The statement id (%s) provided already exists.", str(in, "StatementId"))
			}
		}
		stmt := obj{"Sid": str(in, "StatementId"), "Effect": "Allow", "Principal": obj{"Service": str(in, "Principal")}, "Action": str(in, "Action"),
			"Resource": fn.config["FunctionArn"]}
		// The condition as Lambda writes it from SourceArn and
		// SourceAccount.
		cond := obj{}
		if a := str(in, "SourceArn"); a != "" {
			cond["ArnLike"] = obj{"AWS:SourceArn": a}
		}
		if a := str(in, "SourceAccount"); a != "" {
			cond["StringEquals"] = obj{"AWS:SourceAccount": a}
		}
		if len(cond) > 0 {
			stmt["Condition"] = cond
		}
		fn.policy = append(fn.policy, stmt)
		b, _ := json.Marshal(stmt)
		return obj{"Statement": string(b)}, 201, nil
	case "RemovePermission":
		for i, st := range fn.policy {
			if str(st.(obj), "Sid") == str(in, "StatementId") {
				fn.policy = append(fn.policy[:i:i], fn.policy[i+1:]...)
				return nil, 204, nil
			}
		}
		return nil, 0, notFound("ResourceNotFoundException", "The statement %s is not found in the resource policy.", str(in, "StatementId"))
	case "ListFunctions":
		out := []any{}
		for _, n := range sortedKeys(st.functions) {
			out = append(out, st.functions[n].config)
		}
		return obj{"Functions": out}, 200, nil
	case "ListTags", "TagResource":
		arn := str(in, "Resource")
		f := st.functions[strings.TrimPrefix(arn, s.arn("lambda", "function:"))]
		if f == nil {
			return nil, 0, notFound("ResourceNotFoundException", "Function not found: %s", arn)
		}
		if op == "TagResource" {
			for k, v := range tagMap(in["Tags"]) {
				f.tags[k] = v
			}
			return nil, 204, nil
		}
		return obj{"Tags": f.tags}, 200, nil
	}
	return nil, 0, notFound("UnknownOperationException", "the fake does not implement lambda:%s", op)
}
