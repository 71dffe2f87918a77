package stdlib

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	ctystdlib "github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the HCL function table for a configuration in baseDir. allowFS says
// whether file-reading functions (file, fileexists, filebase64) are present; they resolve
// relative paths against baseDir. Built fresh per call (Nomad's jobspec2 pattern): no globals.
//
// There is deliberately no timestamp(), uuid() or any other function whose
// result changes from one call to the next: `cumulus compile` must produce the
// same bytes for the same configuration, and a plan must not show changes that
// nobody made. Time-dependent values belong to the run time (granule.date).
func Functions(baseDir string, allowFS bool) map[string]function.Function {
	fns := map[string]function.Function{
		// numbers
		"abs":      ctystdlib.AbsoluteFunc,
		"ceil":     ctystdlib.CeilFunc,
		"floor":    ctystdlib.FloorFunc,
		"log":      ctystdlib.LogFunc,
		"max":      ctystdlib.MaxFunc,
		"min":      ctystdlib.MinFunc,
		"parseint": ctystdlib.ParseIntFunc,
		"pow":      ctystdlib.PowFunc,
		"signum":   ctystdlib.SignumFunc,

		// strings
		"chomp":       ctystdlib.ChompFunc,
		"endswith":    endsWithFunc(),
		"format":      ctystdlib.FormatFunc,
		"formatlist":  ctystdlib.FormatListFunc,
		"indent":      ctystdlib.IndentFunc,
		"join":        ctystdlib.JoinFunc,
		"lower":       ctystdlib.LowerFunc,
		"regex":       ctystdlib.RegexFunc,
		"regexall":    ctystdlib.RegexAllFunc,
		"replace":     replaceFunc(),
		"split":       ctystdlib.SplitFunc,
		"startswith":  startsWithFunc(),
		"strcontains": strContainsFunc(),
		"strrev":      ctystdlib.ReverseFunc,
		"substr":      ctystdlib.SubstrFunc,
		"title":       ctystdlib.TitleFunc,
		"trim":        ctystdlib.TrimFunc,
		"trimprefix":  ctystdlib.TrimPrefixFunc,
		"trimspace":   ctystdlib.TrimSpaceFunc,
		"trimsuffix":  ctystdlib.TrimSuffixFunc,
		"upper":       ctystdlib.UpperFunc,

		// collections
		"chunklist":       ctystdlib.ChunklistFunc,
		"coalesce":        ctystdlib.CoalesceFunc,
		"coalescelist":    ctystdlib.CoalesceListFunc,
		"compact":         ctystdlib.CompactFunc,
		"concat":          ctystdlib.ConcatFunc,
		"contains":        ctystdlib.ContainsFunc,
		"distinct":        ctystdlib.DistinctFunc,
		"element":         ctystdlib.ElementFunc,
		"flatten":         ctystdlib.FlattenFunc,
		"index":           indexFunc(),
		"keys":            ctystdlib.KeysFunc,
		"length":          lengthFunc(),
		"lookup":          ctystdlib.LookupFunc,
		"merge":           ctystdlib.MergeFunc,
		"range":           ctystdlib.RangeFunc,
		"reverse":         ctystdlib.ReverseListFunc,
		"setintersection": ctystdlib.SetIntersectionFunc,
		"setproduct":      ctystdlib.SetProductFunc,
		"setsubtract":     ctystdlib.SetSubtractFunc,
		"setunion":        ctystdlib.SetUnionFunc,
		"slice":           ctystdlib.SliceFunc,
		"sort":            ctystdlib.SortFunc,
		"values":          ctystdlib.ValuesFunc,
		"zipmap":          ctystdlib.ZipmapFunc,

		// encodings
		"base64decode": base64DecodeFunc(),
		"base64encode": base64EncodeFunc(),
		"csvdecode":    ctystdlib.CSVDecodeFunc,
		"jsondecode":   ctystdlib.JSONDecodeFunc,
		"jsonencode":   ctystdlib.JSONEncodeFunc,
		"urlencode":    urlEncodeFunc(),

		// hashes, as lower-case hex of the string's UTF-8 bytes
		"md5":    hashFunc("md5", md5.New),
		"sha1":   hashFunc("sha1", sha1.New),
		"sha256": hashFunc("sha256", sha256.New),
		"sha512": hashFunc("sha512", sha512.New),

		// paths (S3 keys and URLs, so always forward slashes)
		"basename": basenameFunc(),
		"dirname":  dirnameFunc(),

		// time: pure functions of their arguments, no clock
		"duration":   durationFunc(),
		"formatdate": ctystdlib.FormatDateFunc,
		"timeadd":    ctystdlib.TimeAddFunc,

		// conversions
		"tobool":   ctystdlib.MakeToFunc(cty.Bool),
		"tolist":   ctystdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    ctystdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber": ctystdlib.MakeToFunc(cty.Number),
		"toset":    ctystdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring": ctystdlib.MakeToFunc(cty.String),

		// error handling
		"can": tryfunc.CanFunc,
		"try": tryfunc.TryFunc,
	}
	if allowFS {
		fns["file"] = fileFunc(baseDir)
		fns["fileexists"] = fileExistsFunc(baseDir)
		fns["filebase64"] = fileBase64Func(baseDir)
	}
	return fns
}

// replaceFunc is Terraform's replace: a search string wrapped in slashes is a
// regular expression (and the replacement may use $1), anything else is
// replaced literally. Users coming from Terraform expect exactly this.
func replaceFunc() function.Function {
	return function.New(&function.Spec{
		Description: `Replaces every occurrence of substr in str with replace. If substr is wrapped in forward slashes ("/[0-9]+/"), it is a regular expression and replace may refer to its groups as $1, $2, ...`,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: "substr", Type: cty.String},
			{Name: "replace", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			search := args[1].AsString()
			if len(search) > 1 && strings.HasPrefix(search, "/") && strings.HasSuffix(search, "/") {
				pattern := search[1 : len(search)-1]
				if _, err := regexp.Compile(pattern); err != nil {
					return cty.UnknownVal(cty.String), function.NewArgErrorf(1,
						"%q is not a valid regular expression (%s); fix the pattern, or to replace the text literally do not wrap it in slashes", pattern, regexpProblem(err))
				}
				return ctystdlib.RegexReplace(args[0], cty.StringVal(pattern), args[2])
			}
			return ctystdlib.Replace(args[0], args[1], args[2])
		},
	})
}

// regexpProblem extracts the useful part of a regexp syntax error.
func regexpProblem(err error) string {
	var serr *syntax.Error
	if errors.As(err, &serr) {
		return serr.Code.String() + ": " + serr.Expr
	}
	return err.Error()
}

func stringPredicate(desc, second string, test func(s, t string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: second, Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

func startsWithFunc() function.Function {
	return stringPredicate("Returns true if str begins with prefix.", "prefix", strings.HasPrefix)
}

func endsWithFunc() function.Function {
	return stringPredicate("Returns true if str ends with suffix.", "suffix", strings.HasSuffix)
}

func strContainsFunc() function.Function {
	return stringPredicate("Returns true if substr occurs anywhere in str.", "substr", strings.Contains)
}

// lengthFunc is Terraform's length: cty's counts only collection elements,
// but users write length(granule.id) and expect the number of characters.
func lengthFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the number of elements in a list, set, map, tuple or object, or the number of characters in a string.",
		Params: []function.Parameter{{
			Name:             "value",
			Type:             cty.DynamicPseudoType,
			AllowDynamicType: true,
			AllowUnknown:     true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
				return cty.Number, nil
			}
			return cty.NilType, function.NewArgErrorf(0, "length needs a string, list, set, map, tuple or object, not a %s", ty.FriendlyName())
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v := args[0]
			switch {
			case v.Type() == cty.String:
				return ctystdlib.Strlen(v)
			case v.Type().IsObjectType():
				if !v.IsKnown() {
					return cty.UnknownVal(cty.Number), nil
				}
				return cty.NumberIntVal(int64(len(v.Type().AttributeTypes()))), nil
			}
			return ctystdlib.Length(v)
		},
	})
}

// indexFunc is Terraform's index(list, value): the position of value in list.
// cty's IndexFunc is instead the [] operator as a function, which HCL already
// has as syntax, so Terraform's meaning is the useful one to give the name.
func indexFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the index of the first element of list equal to value, or an error if there is none.",
		Params: []function.Parameter{
			{Name: "list", Type: cty.DynamicPseudoType},
			{Name: "value", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			list := args[0]
			if ty := list.Type(); !ty.IsListType() && !ty.IsTupleType() {
				return cty.UnknownVal(cty.Number), function.NewArgErrorf(0, "index needs a list or tuple, not a %s; to look up a key in a map or object use lookup() or map[key]", ty.FriendlyName())
			}
			for it := list.ElementIterator(); it.Next(); {
				i, v := it.Element()
				eq, err := ctystdlib.Equal(v, args[1])
				if err != nil {
					return cty.UnknownVal(cty.Number), err
				}
				if !eq.IsKnown() {
					return cty.UnknownVal(cty.Number), nil
				}
				if eq.True() {
					return i, nil
				}
			}
			return cty.UnknownVal(cty.Number), function.NewArgErrorf(1, "the value is not in the list; use contains() first, or try(index(...), -1), if it may be missing")
		},
	})
}

func base64EncodeFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Encodes str's UTF-8 bytes as standard base64 (RFC 4648, with padding).",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
		},
	})
}

func base64DecodeFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Decodes standard base64 (RFC 4648, with padding) whose content is UTF-8 text.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := base64.StdEncoding.DecodeString(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "this is not valid base64 (%s); base64decode expects standard base64 with '=' padding, as base64encode produces", err)
			}
			if !utf8.Valid(b) {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "the decoded bytes are not UTF-8 text, so they cannot be a string; keep binary content base64-encoded")
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func urlEncodeFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Escapes str for use in a URL query string (spaces become '+').",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(url.QueryEscape(args[0].AsString())), nil
		},
	})
}

func hashFunc(name string, newHash func() hash.Hash) function.Function {
	return function.New(&function.Spec{
		Description: fmt.Sprintf("Returns the %s digest of str's UTF-8 bytes as lower-case hex.", name),
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			h := newHash()
			h.Write([]byte(args[0].AsString()))
			return cty.StringVal(hex.EncodeToString(h.Sum(nil))), nil
		},
	})
}

func basenameFunc() function.Function {
	return function.New(&function.Spec{
		Description: `Returns the last element of a slash-separated path: basename("a/b/c.nc") is "c.nc".`,
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(path.Base(args[0].AsString())), nil
		},
	})
}

func dirnameFunc() function.Function {
	return function.New(&function.Spec{
		Description: `Returns all but the last element of a slash-separated path: dirname("a/b/c.nc") is "a/b".`,
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(path.Dir(args[0].AsString())), nil
		},
	})
}

func durationFunc() function.Function {
	return function.New(&function.Spec{
		Description: `Returns the number of seconds in a duration such as "90s", "15m", "1h30m" or "30d".`,
		Params:      []function.Parameter{{Name: "duration", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			d, err := ParseDuration(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.Number), function.NewArgError(0, err)
			}
			return cty.NumberIntVal(int64(d / time.Second)), nil
		},
	})
}

// readConfigFile reads a file named relative to the configuration's folder,
// with errors that say where the file was looked for.
func readConfigFile(baseDir, name string) ([]byte, error) {
	full := resolvePath(baseDir, name)
	b, err := os.ReadFile(full)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, function.NewArgErrorf(0, "no file exists at %s; relative paths are read from the configuration's folder (%s)", displayPath(name, full), baseDir)
	case isDir(full):
		return nil, function.NewArgErrorf(0, "%s is a folder, not a file; name a file inside it", displayPath(name, full))
	default:
		return nil, function.NewArgErrorf(0, "cannot read %s: %s", displayPath(name, full), unwrapPathError(err))
	}
}

func resolvePath(baseDir, name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(baseDir, name)
}

func displayPath(name, full string) string {
	if name == full {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%q (%s)", name, full)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func unwrapPathError(err error) error {
	var perr *fs.PathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	return err
}

func fileFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a UTF-8 text file; a relative path is read from the configuration's folder.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			b, err := readConfigFile(baseDir, name)
			if err != nil {
				return cty.UnknownVal(cty.String), err
			}
			if !utf8.Valid(b) {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "%q is not UTF-8 text; use filebase64 to read a binary file", name)
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func fileBase64Func(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a file, which may be binary, encoded as standard base64; a relative path is read from the configuration's folder.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := readConfigFile(baseDir, args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), err
			}
			return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil
		},
	})
}

func fileExistsFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns whether a file exists at path; a relative path is looked up in the configuration's folder. A folder at path is an error, not false.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			full := resolvePath(baseDir, name)
			st, err := os.Stat(full)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return cty.False, nil
			case err != nil:
				return cty.UnknownVal(cty.Bool), function.NewArgErrorf(0, "cannot check %s: %s", displayPath(name, full), unwrapPathError(err))
			case st.IsDir():
				// An error rather than false: a folder where a file is expected is
				// almost always a wrong path, and false would hide it.
				return cty.UnknownVal(cty.Bool), function.NewArgErrorf(0, "%s is a folder, not a file; fileexists only checks for files", displayPath(name, full))
			}
			return cty.True, nil
		},
	})
}
