package builtin

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/zclconf/go-cty/cty"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// maxKeyBytes is S3's limit on an object key, in UTF-8 bytes.
const maxKeyBytes = 1024

// location is where an object is.
type location struct {
	Bucket, Key string
}

// archiveLocation is where the collection archives the file: the bucket of
// its file block, and the block's url_path (else the collection's) rendered
// for the granule and the file, then "/" and the file's name. ok is false
// when the file matches no block or its block names no bucket: such a file
// is not archived and stays where it is.
func (e Env) archiveLocation(c *graph.Collection, g contract.Granule, f contract.File) (loc location, block *graph.CollectionFile, ok bool, err error) {
	block = fileBlock(c, f)
	if block == nil || block.Bucket == "" {
		return location{}, block, false, nil
	}
	key, err := e.archiveKey(c, block, g, f)
	if err != nil {
		return location{}, block, false, err
	}
	return location{Bucket: block.Bucket, Key: key}, block, true, nil
}

func (e Env) archiveKey(c *graph.Collection, block *graph.CollectionFile, g contract.Granule, f contract.File) (string, error) {
	if err := checkName(f.Name); err != nil {
		return "", &FatalError{Err: fmt.Errorf("file %q of granule %s: %w", f.Name, g.ID, err)}
	}
	tmpl, from := block.URLPath, fmt.Sprintf("file block %q", block.Name)
	if tmpl == nil {
		tmpl, from = c.URLPath, fmt.Sprintf("collection %q", c.Name)
	}
	if tmpl == nil {
		return f.Name, nil
	}
	sf := stdFile(f)
	v, err := e.Graph.Eval(*tmpl, stdGranule(g), &sf)
	if err != nil {
		return "", &FatalError{Err: fmt.Errorf("url_path of %s for file %q of granule %s: %w", from, f.Name, g.ID, err)}
	}
	prefix, err := urlPath(v)
	if err != nil {
		return "", &FatalError{Err: fmt.Errorf("url_path of %s for file %q of granule %s: %w", from, f.Name, g.ID, err)}
	}
	key := prefix + "/" + f.Name
	if len(key) > maxKeyBytes {
		return "", fatalf("archive key for file %q of granule %s is %d bytes long, over S3's %d: shorten the url_path of %s", f.Name, g.ID, len(key), maxKeyBytes, from)
	}
	return key, nil
}

// urlPath turns a rendered url_path into a key prefix, with the same rules
// stdlib.RenderPath applies at validate: a string, forward slashes, no
// leading, trailing or repeated '/', no '.' or '..' segment (S3 keeps them
// literally, so links would be ambiguous), no control characters.
func urlPath(v cty.Value) (string, error) {
	v, _ = v.UnmarkDeep()
	switch {
	case !v.IsKnown():
		return "", fmt.Errorf("the value is not known")
	case v.IsNull():
		return "", fmt.Errorf("the value is null")
	case v.Type() != cty.String:
		return "", fmt.Errorf("the value is a %s, not a string", v.Type().FriendlyName())
	}
	raw := v.AsString()
	for _, r := range raw {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%q contains the control character %U", raw, r)
		}
	}
	parts := strings.Split(strings.ReplaceAll(raw, `\`, "/"), "/")
	kept := parts[:0]
	for _, p := range parts {
		switch p {
		case "":
			continue
		case ".", "..":
			return "", fmt.Errorf("%q contains a %q segment", raw, p)
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return "", fmt.Errorf("%q leaves no folder (are the granule's date parts empty?)", raw)
	}
	return strings.Join(kept, "/"), nil
}

// checkName refuses a file name that cannot be the last segment of a key.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the file has no name")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("a file name must not contain a slash")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("the name contains the control character %U", r)
		}
	}
	return nil
}
