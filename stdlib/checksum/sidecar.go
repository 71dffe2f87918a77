package checksum

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// SidecarSum is one checksum a sidecar file holds.
type SidecarSum struct {
	Algorithm Algorithm
	// Value is canonical, as Normalize writes it.
	Value string
	// Name is the file the line names, "" for a bare checksum.
	Name string
}

// Checksum is s's algorithm and value.
func (s SidecarSum) Checksum() Checksum { return Checksum{s.Algorithm, s.Value} }

// ParseSidecar reads a checksum file in the forms providers publish:
//
//	d41d8cd98f00b204e9800998ecf8427e  name     md5sum, sha*sum (also " *name")
//	MD5 (name) = d41d8cd98f00b204e9800998ecf8427e    BSD tag style
//	4294967295 0 name                          cksum
//	d41d8cd98f00b204e9800998ecf8427e           the bare value
//
// Blank lines and lines starting with '#' are skipped. The algorithm is
// told by the length of the hex value (see InferHex), or by the tag; a
// sidecar whose extension names an algorithm (.md5, .sha256, .cksum...)
// must agree with it.
func ParseSidecar(content []byte, sidecarName string) ([]SidecarSum, error) {
	var extAlg Algorithm
	switch a := Algorithm(strings.ToLower(strings.TrimPrefix(path.Ext(sidecarName), "."))); a {
	case MD5, SHA1, SHA256, SHA512, Cksum:
		extAlg = a
	}
	var sums []SidecarSum
	for i, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSidecarLine(line, extAlg)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if extAlg != "" && s.Algorithm != extAlg {
			return nil, fmt.Errorf("line %d: the file's extension says %s, but %q is a %s checksum", i+1, extAlg, s.Value, s.Algorithm)
		}
		sums = append(sums, s)
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("no checksum in it")
	}
	return sums, nil
}

func parseSidecarLine(line string, extAlg Algorithm) (SidecarSum, error) {
	// BSD tag style: ALG (name) = value
	if open := strings.Index(line, " ("); open > 0 {
		if eq := strings.LastIndex(line, ") = "); eq > open {
			alg := bsdAlg(line[:open])
			value := strings.TrimSpace(line[eq+4:])
			if got, ok := InferHex(value); alg == "" || !ok || got != alg {
				return SidecarSum{}, fmt.Errorf("%q is not a checksum line", line)
			}
			return SidecarSum{Algorithm: alg, Value: strings.ToLower(value), Name: line[open+2 : eq]}, nil
		}
	}
	fields := strings.Fields(line)
	// cksum: CRC SIZE [name], both decimal; or a bare decimal CRC.
	alg, isHex := InferHex(fields[0])
	looksCksum := !isHex && isDecimal(fields[0]) && (len(fields) == 1 || isDecimal(fields[1]))
	if extAlg == Cksum || looksCksum {
		if !looksCksum {
			return SidecarSum{}, fmt.Errorf("%q is not a cksum line (CRC SIZE NAME)", line)
		}
		crc, err := strconv.ParseUint(fields[0], 10, 32)
		if err != nil {
			return SidecarSum{}, fmt.Errorf("%q: the CRC is not a 32-bit number", line)
		}
		return SidecarSum{Algorithm: Cksum, Value: strconv.FormatUint(crc, 10), Name: afterFields(line, 2)}, nil
	}
	if !isHex {
		return SidecarSum{}, fmt.Errorf("%q is not a checksum (hex of 32, 40, 64 or 128 digits)", fields[0])
	}
	// The name is everything after the value and its separator; a '*'
	// marks binary mode in md5sum's output.
	return SidecarSum{Algorithm: alg, Value: strings.ToLower(fields[0]), Name: strings.TrimPrefix(afterFields(line, 1), "*")}, nil
}

// bsdAlg is the algorithm a BSD-style tag names ("MD5", "SHA256",
// "SHA-256"), "" for none of the digests.
func bsdAlg(tag string) Algorithm {
	a, err := ParseAlgorithm(tag)
	if err != nil || a == Cksum {
		return ""
	}
	return a
}

// afterFields is what follows the first n whitespace-separated fields of
// line, without the separating blanks: a file name, which may hold spaces.
func afterFields(line string, n int) string {
	rest := line
	for range n {
		rest = strings.TrimLeft(rest, " \t")
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return ""
		}
		rest = rest[i:]
	}
	return strings.TrimLeft(rest, " \t")
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SumFor picks the sidecar's checksum of the named file: the line naming it
// (by base name, since lines may carry "./", a folder, or '\' separators),
// else the first bare value.
func SumFor(sums []SidecarSum, name string) (SidecarSum, bool) {
	var bare *SidecarSum
	for i, s := range sums {
		if s.Name == "" {
			if bare == nil {
				bare = &sums[i]
			}
			continue
		}
		if path.Base(strings.ReplaceAll(s.Name, `\`, "/")) == name {
			return s, true
		}
	}
	if bare != nil {
		return *bare, true
	}
	return SidecarSum{}, false
}
