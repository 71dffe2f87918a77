package stage

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
// (contract.File.ChecksumType) and the standard checksum step offers it.
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

// ParseAlgorithm reads an algorithm name as providers write it: case does
// not matter, nor do '-' or '_' ("SHA-256", "sha256", "CKSUM").
func ParseAlgorithm(name string) (Algorithm, error) {
	n := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	switch a := Algorithm(n); a {
	case MD5, SHA1, SHA256, SHA512, Cksum:
		return a, nil
	}
	return "", fmt.Errorf("stage: unknown checksum algorithm %q (want md5, sha1, sha256, sha512 or cksum)", name)
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

// newHash returns a hash computing a.
func newHash(a Algorithm) hash.Hash {
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
		return &cksum{}
	}
	return nil
}

// format writes a sum the way Checksum values are written.
func format(a Algorithm, sum []byte) string {
	if a == Cksum {
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(sum)), 10)
	}
	return hex.EncodeToString(sum)
}

// normalize checks c and returns it with its value in canonical form
// (lowercase hex, or decimal for cksum), so it compares as a string.
func normalize(c Checksum) (Checksum, error) {
	a, err := ParseAlgorithm(string(c.Algorithm))
	if err != nil {
		return Checksum{}, err
	}
	v := strings.TrimSpace(c.Value)
	if a == Cksum {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Checksum{}, fmt.Errorf("stage: cksum value %q is not a decimal 32-bit number", c.Value)
		}
		return Checksum{a, strconv.FormatUint(n, 10)}, nil
	}
	size := newHash(a).Size()
	if b, err := hex.DecodeString(v); err == nil && len(b) == size {
		return Checksum{a, hex.EncodeToString(b)}, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == size {
		return Checksum{a, hex.EncodeToString(b)}, nil
	}
	return Checksum{}, fmt.Errorf("stage: %s value %q is neither hex nor base64 of %d bytes", a, c.Value, size)
}

// cksum is the CRC of POSIX cksum(1): CRC-32 with polynomial 0x04C11DB7,
// most significant bit first, over the data and then its length in as few
// bytes as it takes (least significant first), complemented.
type cksum struct {
	crc uint32
	n   uint64
}

// cksumTables are constants, computed once: the byte-wise CRC table and
// its slicing-by-8 extensions, which take eight bytes a step (about four
// times the byte-wise speed, so cksum does not slow staging more than MD5).
var cksumTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>24]
		}
	}
	return t
}()

func (c *cksum) Write(p []byte) (int, error) {
	t := &cksumTables
	crc, n := c.crc, len(p)
	c.n += uint64(n)
	for len(p) >= 8 {
		crc ^= binary.BigEndian.Uint32(p)
		crc = t[7][crc>>24] ^ t[6][byte(crc>>16)] ^ t[5][byte(crc>>8)] ^ t[4][byte(crc)] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	c.crc = crc
	return n, nil
}

func (c *cksum) Sum32() uint32 {
	crc := c.crc
	for n := c.n; n != 0; n >>= 8 {
		crc = crc<<8 ^ cksumTables[0][byte(crc>>24)^byte(n)]
	}
	return ^crc
}

func (c *cksum) Sum(b []byte) []byte { return binary.BigEndian.AppendUint32(b, c.Sum32()) }
func (c *cksum) Reset()              { *c = cksum{} }
func (c *cksum) Size() int           { return 4 }
func (c *cksum) BlockSize() int      { return 1 }
