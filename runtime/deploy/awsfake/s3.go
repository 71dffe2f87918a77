package awsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

type object struct {
	data []byte
	meta map[string]string
}

type bucket struct {
	region  string
	tags    map[string]string
	notif   *notification
	objects map[string]object
}

type notification struct {
	XMLName xml.Name       `xml:"NotificationConfiguration"`
	Lambda  []lambdaConfig `xml:"CloudFunctionConfiguration"`
}

type lambdaConfig struct {
	ID     string   `xml:"Id,omitempty"`
	ARN    string   `xml:"CloudFunction"`
	Events []string `xml:"Event"`
	Filter *struct {
		Rules []struct {
			Name  string `xml:"Name"`
			Value string `xml:"Value"`
		} `xml:"S3Key>FilterRule"`
	} `xml:"Filter,omitempty"`
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []struct {
		Key   string `xml:"Key"`
		Value string `xml:"Value"`
	} `xml:"TagSet>Tag"`
}

func writeS3Error(w http.ResponseWriter, r *http.Request, e *Error) {
	status := e.Status
	switch e.Code {
	case "NoSuchBucket", "NoSuchKey", "NoSuchTagSet", "NotFound":
		status = 404
	case "BucketAlreadyOwnedByYou", "BucketNotEmpty":
		status = 409
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", e.Code, xmlEscape(e.Message))
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	b, _ := xml.Marshal(v)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	bname, key, _ := strings.Cut(path, "/")
	key, _ = url.PathUnescape(key)
	q := r.URL.Query()
	in := obj{"Bucket": bname}
	op := ""
	switch {
	case key != "" && r.Method == http.MethodHead:
		op, in["Key"] = "HeadObject", key
	case key != "" && r.Method == http.MethodGet:
		op, in["Key"] = "GetObject", key
	case key != "" && r.Method == http.MethodPut:
		op, in["Key"] = "PutObject", key
		meta := obj{}
		for h := range r.Header {
			if strings.HasPrefix(strings.ToLower(h), "x-amz-meta-") {
				meta[strings.ToLower(strings.TrimPrefix(strings.ToLower(h), "x-amz-meta-"))] = r.Header.Get(h)
			}
		}
		in["Metadata"] = meta
	case q.Has("tagging"):
		op = map[string]string{"GET": "GetBucketTagging", "PUT": "PutBucketTagging"}[r.Method]
	case q.Has("notification"):
		op = map[string]string{"GET": "GetBucketNotificationConfiguration", "PUT": "PutBucketNotificationConfiguration"}[r.Method]
	case q.Get("list-type") == "2":
		op = "ListObjectsV2"
		if q.Has("prefix") {
			in["Prefix"] = q.Get("prefix")
		}
		if q.Has("max-keys") {
			var n int
			fmt.Sscan(q.Get("max-keys"), &n)
			in["MaxKeys"] = n
		}
	case r.Method == http.MethodHead:
		op = "HeadBucket"
	case r.Method == http.MethodPut:
		op = "CreateBucket"
	}
	var tg tagging
	var nc notification
	var cbc struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	switch op {
	case "PutBucketTagging":
		if err := xml.Unmarshal(body, &tg); err != nil {
			writeS3Error(w, r, &Error{Status: 400, Code: "MalformedXML", Message: err.Error()})
			return
		}
		set := []any{}
		for _, t := range tg.Tags {
			set = append(set, obj{"Key": t.Key, "Value": t.Value})
		}
		in["Tagging"] = obj{"TagSet": set}
	case "PutBucketNotificationConfiguration":
		if err := xml.Unmarshal(body, &nc); err != nil {
			writeS3Error(w, r, &Error{Status: 400, Code: "MalformedXML", Message: err.Error()})
			return
		}
		list := []any{}
		for _, c := range nc.Lambda {
			o := obj{"LambdaFunctionArn": c.ARN, "Events": c.Events}
			if c.ID != "" {
				o["Id"] = c.ID
			}
			if c.Filter != nil {
				rules := []any{}
				for _, fr := range c.Filter.Rules {
					rules = append(rules, obj{"Name": fr.Name, "Value": fr.Value})
				}
				o["Filter"] = obj{"Key": obj{"FilterRules": rules}}
			}
			list = append(list, o)
		}
		in["NotificationConfiguration"] = obj{"LambdaFunctionConfigurations": list}
	case "CreateBucket":
		if len(body) > 0 {
			if err := xml.Unmarshal(body, &cbc); err != nil {
				writeS3Error(w, r, &Error{Status: 400, Code: "MalformedXML", Message: err.Error()})
				return
			}
			in["CreateBucketConfiguration"] = obj{"LocationConstraint": cbc.LocationConstraint}
		}
	case "":
		writeS3Error(w, r, &Error{Status: 400, Code: "NotImplemented", Message: r.Method + " " + r.URL.String()})
		return
	}
	if e := s.begin("s3", op, in); e != nil {
		writeS3Error(w, r, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.st.buckets[bname]
	if b == nil && op != "CreateBucket" {
		code := "NoSuchBucket"
		if op == "HeadBucket" {
			code = "NotFound"
		}
		writeS3Error(w, r, &Error{Status: 404, Code: code, Message: "The specified bucket does not exist"})
		return
	}
	switch op {
	case "CreateBucket":
		if b != nil {
			writeS3Error(w, r, &Error{Code: "BucketAlreadyOwnedByYou", Message: "Your previous request to create the named bucket succeeded and you already own it."})
			return
		}
		s.st.buckets[bname] = &bucket{region: cbc.LocationConstraint, tags: map[string]string{}, objects: map[string]object{}}
		w.Header().Set("Location", "/"+bname)
	case "HeadBucket":
		w.Header().Set("X-Amz-Bucket-Region", s.Region)
	case "GetBucketTagging":
		if len(b.tags) == 0 {
			writeS3Error(w, r, &Error{Code: "NoSuchTagSet", Message: "The TagSet does not exist"})
			return
		}
		var out tagging
		for _, k := range sortedKeys(b.tags) {
			out.Tags = append(out.Tags, struct {
				Key   string `xml:"Key"`
				Value string `xml:"Value"`
			}{k, b.tags[k]})
		}
		writeXML(w, out)
	case "PutBucketTagging":
		b.tags = map[string]string{}
		for _, t := range tg.Tags {
			b.tags[t.Key] = t.Value
		}
		w.WriteHeader(204)
	case "GetBucketNotificationConfiguration":
		if b.notif == nil {
			writeXML(w, notification{})
			return
		}
		writeXML(w, b.notif)
	case "PutBucketNotificationConfiguration":
		for _, c := range nc.Lambda {
			fn := s.st.functions[strings.TrimPrefix(c.ARN, s.arn("lambda", "function:"))]
			if fn == nil || len(fn.policy) == 0 {
				writeS3Error(w, r, &Error{Status: 400, Code: "InvalidArgument", Message: "Unable to validate the following destination configurations"})
				return
			}
		}
		b.notif = &nc
	case "ListObjectsV2":
		type content struct {
			Key  string `xml:"Key"`
			Size int    `xml:"Size"`
		}
		out := struct {
			XMLName     xml.Name  `xml:"ListBucketResult"`
			Name        string    `xml:"Name"`
			KeyCount    int       `xml:"KeyCount"`
			IsTruncated bool      `xml:"IsTruncated"`
			Contents    []content `xml:"Contents"`
		}{Name: bname}
		keys := sortedKeys(b.objects)
		sort.Strings(keys)
		prefix, _ := in["Prefix"].(string)
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				out.Contents = append(out.Contents, content{k, len(b.objects[k].data)})
			}
		}
		if n, ok := in["MaxKeys"].(int); ok && n < len(out.Contents) {
			out.Contents, out.IsTruncated = out.Contents[:n], true
		}
		out.KeyCount = len(out.Contents)
		writeXML(w, out)
	case "GetObject", "HeadObject":
		o, ok := b.objects[key]
		if !ok {
			if op == "GetObject" {
				writeS3Error(w, r, &Error{Code: "NoSuchKey", Message: "The specified key does not exist."})
			} else {
				writeS3Error(w, r, &Error{Code: "NotFound", Message: "Not Found"})
			}
			return
		}
		for k, v := range o.meta {
			w.Header().Set("X-Amz-Meta-"+k, v)
		}
		sum := md5.Sum(o.data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("Content-Length", fmt.Sprint(len(o.data)))
		if op == "GetObject" {
			_, _ = w.Write(o.data)
		}
	case "PutObject":
		meta := map[string]string{}
		for k, v := range in["Metadata"].(obj) {
			meta[k] = v.(string)
		}
		b.objects[key] = object{data: body, meta: meta}
		sum := md5.Sum(body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	}
}

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	op := form.Get("Action")
	if e := s.begin("sts", op, obj{}); e != nil {
		writeS3Error(w, r, e)
		return
	}
	if op != "GetCallerIdentity" {
		writeS3Error(w, r, &Error{Status: 400, Code: "InvalidAction", Message: op})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/deployer</Arn><UserId>AIDAFAKE</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, s.Account, s.Account)
}

// Object returns an object's bytes, as a test reads what deploy uploaded.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.st.buckets[bucket]
	if !ok {
		return nil, false
	}
	o, ok := b.objects[key]
	return o.data, ok
}

// NotificationFilters returns the key filter rules of a bucket's Lambda
// notifications ("id: prefix=P suffix=S"), in order.
func (s *Server) NotificationFilters(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.st.buckets[bucket]
	if !ok || b.notif == nil {
		return nil
	}
	var out []string
	for _, c := range b.notif.Lambda {
		line := c.ID + ":"
		if c.Filter != nil {
			for _, r := range c.Filter.Rules {
				line += " " + strings.ToLower(r.Name) + "=" + r.Value
			}
		}
		out = append(out, line)
	}
	return out
}
