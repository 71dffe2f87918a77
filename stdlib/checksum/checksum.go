// Package checksum owns the checksum algorithms of the standard steps'
// contract (md5, sha1, sha256, sha512 and cksum, the CRC of POSIX
// cksum(1)): their names, their hashes, how their values are written and
// compared, and the sidecar files providers publish them in.
//
// The standard steps run in the simulator and on AWS alike, so this package
// depends on no simulator package.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Algorithm names a checksum algorithm as granule documents name it
// (a file's checksum_type) and the standard checksum step offers it.
type Algorithm string

// The algorithms providers publish checksums in.
const (
	MD5    Algorithm = "md5"
	SHA1   Algorithm = "sha1"
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
	// Cksum is the CRC of POSIX cksum(1), written in decimal as cksum
	// prints it; some providers publish nothing else.
	Cksum Algorithm = "cksum"
)

// Algorithms are the known algorithms, in the order the checksum step's
// `algorithm` input lists them. The slice is the caller's.
func Algorithms() []Algorithm { return []Algorithm{MD5, SHA1, SHA256, SHA512, Cksum} }

// ParseAlgorithm reads an algorithm name as providers write it: case does
// not matter, nor do '-' or '_' or surrounding blanks ("SHA-256", "sha256",
// "CKSUM").
func ParseAlgorithm(name string) (Algorithm, error) {
	n := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	switch a := Algorithm(n); a {
	case MD5, SHA1, SHA256, SHA512, Cksum:
		return a, nil
	}
	return "", fmt.Errorf("unknown checksum algorithm %q (want md5, sha1, sha256, sha512 or cksum)", name)
}

// Size is the length in bytes of a's sum, 0 for an unknown algorithm.
func (a Algorithm) Size() int {
	switch a {
	case MD5:
		return md5.Size
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case SHA512:
		return sha512.Size
	case Cksum:
		return 4
	}
	return 0
}

// New returns a fresh hash computing a; its Sum is the raw sum, which
// Format writes. It panics on an algorithm ParseAlgorithm does not return.
func New(a Algorithm) hash.Hash {
	switch a {
	case MD5:
		return md5.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	case Cksum:
		return new(cksum)
	}
	panic(fmt.Sprintf("checksum: New(%q): unknown algorithm", string(a)))
}

// Format writes a raw sum of a canonically, as providers publish it:
// lower-case hex, except cksum's CRC, which is decimal as cksum prints it.
func Format(a Algorithm, sum []byte) string {
	if a == Cksum && len(sum) == 4 {
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(sum)), 10)
	}
	return hex.EncodeToString(sum)
}

// Checksum is a file's checksum: an algorithm and its value, hex for the
// digests (base64 is accepted too, as S3 writes them) and decimal for
// cksum. The zero Checksum means none is known.
type Checksum struct {
	Algorithm Algorithm
	Value     string
}

// IsZero reports whether c names no checksum.
func (c Checksum) IsZero() bool { return c.Algorithm == "" && c.Value == "" }

func (c Checksum) String() string { return string(c.Algorithm) + ":" + c.Value }

// Normalize checks c and returns it in canonical form: its algorithm as
// ParseAlgorithm names it, its value in lower-case hex (from hex of any
// case or base64) or, for cksum, decimal without zero padding. Canonical
// checksums compare as strings.
func Normalize(c Checksum) (Checksum, error) {
	a, err := ParseAlgorithm(string(c.Algorithm))
	if err != nil {
		return Checksum{}, err
	}
	v := strings.TrimSpace(c.Value)
	if a == Cksum {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Checksum{}, fmt.Errorf("cksum value %q is not a decimal 32-bit number", c.Value)
		}
		return Checksum{a, strconv.FormatUint(n, 10)}, nil
	}
	size := a.Size()
	if b, err := hex.DecodeString(v); err == nil && len(b) == size {
		return Checksum{a, hex.EncodeToString(b)}, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == size {
		return Checksum{a, hex.EncodeToString(b)}, nil
	}
	return Checksum{}, fmt.Errorf("%s value %q is neither hex nor base64 of %d bytes", a, c.Value, size)
}

// Equal reports whether x and y are the same checksum in alg, however each
// is written (hex of either case or base64; a decimal CRC with or without
// zero padding). A value that is not a valid checksum equals nothing.
func Equal(alg Algorithm, x, y string) bool {
	a, errX := Normalize(Checksum{alg, x})
	b, errY := Normalize(Checksum{alg, y})
	return errX == nil && errY == nil && a == b
}

// InferHex names the digest algorithm a hex value of this length comes
// from (32 digits md5, 40 sha1, 64 sha256, 128 sha512), or reports false
// when s is not hex of one of those lengths.
func InferHex(s string) (Algorithm, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", false
		}
	}
	switch len(s) {
	case 2 * md5.Size:
		return MD5, true
	case 2 * sha1.Size:
		return SHA1, true
	case 2 * sha256.Size:
		return SHA256, true
	case 2 * sha512.Size:
		return SHA512, true
	}
	return "", false
}
