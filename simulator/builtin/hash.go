package builtin

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Algorithms are the checksum algorithms the steps compute, as the checksum
// step's `algorithm` input names them.
func Algorithms() []string { return []string{"md5", "sha1", "sha256", "sha512", "cksum"} }

// newHash returns a fresh hash for the algorithm.
func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case "md5":
		return md5.New(), nil
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "cksum":
		return &cksum{tab: cksumTable()}, nil
	}
	return nil, fmt.Errorf("unknown checksum algorithm %q (known: %s)", alg, strings.Join(Algorithms(), ", "))
}

// sumString is the checksum as providers publish it: lower-case hex, except
// cksum's CRC, which the cksum command prints in decimal.
func sumString(alg string, h hash.Hash) string {
	if c, ok := h.(*cksum); ok && alg == "cksum" {
		return strconv.FormatUint(uint64(c.Sum32()), 10)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameSum compares two checksums of one algorithm, ignoring the case of hex
// digits and the zero padding some tools give a decimal CRC.
func sameSum(alg, a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if alg == "cksum" {
		x, errA := strconv.ParseUint(a, 10, 32)
		y, errB := strconv.ParseUint(b, 10, 32)
		return errA == nil && errB == nil && x == y
	}
	return strings.EqualFold(a, b)
}

// hashObject streams the object through the algorithm's hash: granules can
// be gigabytes, so nothing is held in memory. It also returns the bytes
// read, and fails when they fall short of the object's length (a cut
// connection must not pass for a checksum of the whole file).
func hashObject(ctx context.Context, c S3, bucket, key, alg string) (sum string, size int64, err error) {
	h, err := newHash(alg)
	if err != nil {
		return "", 0, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	defer out.Body.Close()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return "", n, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	if want := out.ContentLength; want != nil && *want != n {
		return "", n, fmt.Errorf("reading %s: got %d bytes of %d", s3url(bucket, key), n, *want)
	}
	return sumString(alg, h), n, nil
}

// maxSidecarBytes bounds what is read of a sidecar: a checksum file is a
// few lines, and a misrouted data file must not be read into memory.
const maxSidecarBytes = 1 << 20

func readSmallObject(ctx context.Context, c S3, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxSidecarBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s3url(bucket, key), err)
	}
	if len(b) > maxSidecarBytes {
		return nil, fmt.Errorf("%s is over %d bytes, too large for a checksum file", s3url(bucket, key), maxSidecarBytes)
	}
	return b, nil
}

// cksum is the POSIX cksum CRC: CRC-32 with polynomial 0x04C11DB7, not
// reflected, over the data and then the data's length (least significant
// byte first, only as many bytes as it needs), complemented. It is not
// hash/crc32's IEEE CRC, which is the reflected form of the same polynomial
// and leaves the length out.
type cksum struct {
	tab *[256]uint32 // built per hash: 2 KiB of shifts, and no package state
	crc uint32
	n   uint64
}

func cksumTable() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}

func (c *cksum) Write(p []byte) (int, error) {
	if c.tab == nil {
		c.tab = cksumTable()
	}
	crc, tab := c.crc, c.tab
	for _, b := range p {
		crc = crc<<8 ^ tab[byte(crc>>24)^b]
	}
	c.crc = crc
	c.n += uint64(len(p))
	return len(p), nil
}

func (c *cksum) Sum32() uint32 {
	if c.tab == nil {
		c.tab = cksumTable()
	}
	crc := c.crc
	for n := c.n; n != 0; n >>= 8 {
		crc = crc<<8 ^ c.tab[byte(crc>>24)^byte(n)]
	}
	return ^crc
}

func (c *cksum) Sum(b []byte) []byte {
	s := c.Sum32()
	return append(b, byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}

func (c *cksum) Reset()         { *c = cksum{tab: c.tab} }
func (c *cksum) Size() int      { return 4 }
func (c *cksum) BlockSize() int { return 1 }

var _ hash.Hash32 = (*cksum)(nil)

// sidecarSum is one checksum a sidecar file holds.
type sidecarSum struct {
	Alg, Value string
	// Name is the file the line names, "" for a bare checksum.
	Name string
}

// parseSidecar reads a checksum file in the forms providers publish:
//
//	d41d8cd98f00b204e9800998ecf8427e  name     md5sum, sha*sum (also " *name")
//	MD5 (name) = d41d8cd98f00b204e9800998ecf8427e    BSD tag style
//	4294967295 0 name                          cksum
//	d41d8cd98f00b204e9800998ecf8427e           the bare value
//
// The algorithm is told by the length of the hex value (32 md5, 40 sha1, 64
// sha256, 128 sha512), or by the tag; a sidecar whose extension names an
// algorithm (.md5, .sha256, .cksum...) must agree with it.
func parseSidecar(content []byte, sidecarName string) ([]sidecarSum, error) {
	extAlg := ""
	switch ext := strings.ToLower(strings.TrimPrefix(path.Ext(sidecarName), ".")); ext {
	case "md5", "sha1", "sha256", "sha512", "cksum":
		extAlg = ext
	}
	var sums []sidecarSum
	for i, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSidecarLine(line, extAlg)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if extAlg != "" && s.Alg != extAlg {
			return nil, fmt.Errorf("line %d: the file's extension says %s, but %q is a %s checksum", i+1, extAlg, s.Value, s.Alg)
		}
		sums = append(sums, s)
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("no checksum in it")
	}
	return sums, nil
}

func parseSidecarLine(line, extAlg string) (sidecarSum, error) {
	// BSD tag style: ALG (name) = value
	if open := strings.Index(line, " ("); open > 0 {
		if eq := strings.LastIndex(line, ") = "); eq > open {
			alg := bsdAlg(line[:open])
			value := strings.TrimSpace(line[eq+4:])
			if alg == "" || hexAlg(value) != alg {
				return sidecarSum{}, fmt.Errorf("%q is not a checksum line", line)
			}
			return sidecarSum{Alg: alg, Value: strings.ToLower(value), Name: line[open+2 : eq]}, nil
		}
	}
	fields := strings.Fields(line)
	// cksum: CRC SIZE [name], both decimal; or a bare decimal CRC.
	looksCksum := hexAlg(fields[0]) == "" && isDecimal(fields[0]) && (len(fields) == 1 || isDecimal(fields[1]))
	if extAlg == "cksum" || looksCksum {
		if !looksCksum {
			return sidecarSum{}, fmt.Errorf("%q is not a cksum line (CRC SIZE NAME)", line)
		}
		if _, err := strconv.ParseUint(fields[0], 10, 32); err != nil {
			return sidecarSum{}, fmt.Errorf("%q: the CRC is not a 32-bit number", line)
		}
		return sidecarSum{Alg: "cksum", Value: fields[0], Name: afterFields(line, 2)}, nil
	}
	alg := hexAlg(fields[0])
	if alg == "" {
		return sidecarSum{}, fmt.Errorf("%q is not a checksum (hex of 32, 40, 64 or 128 digits)", fields[0])
	}
	s := sidecarSum{Alg: alg, Value: strings.ToLower(fields[0])}
	// The name is everything after the value and its separator; a '*'
	// marks binary mode in md5sum's output.
	s.Name = strings.TrimPrefix(afterFields(line, 1), "*")
	return s, nil
}

// hexAlg names the algorithm a hex checksum of this length comes from.
func hexAlg(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return ""
		}
	}
	switch len(s) {
	case 32:
		return "md5"
	case 40:
		return "sha1"
	case 64:
		return "sha256"
	case 128:
		return "sha512"
	}
	return ""
}

func bsdAlg(tag string) string {
	switch strings.ToUpper(strings.ReplaceAll(tag, "-", "")) {
	case "MD5":
		return "md5"
	case "SHA1":
		return "sha1"
	case "SHA256":
		return "sha256"
	case "SHA512":
		return "sha512"
	}
	return ""
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

// sumFor picks the sidecar's checksum of the named file: the line naming it
// (by base name, since lines may carry "./" or a folder), else a bare value.
func sumFor(sums []sidecarSum, name string) (sidecarSum, bool) {
	var bare *sidecarSum
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
	return sidecarSum{}, false
}
