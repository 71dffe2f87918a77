package stage

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// Values printed by GNU coreutils cksum(1).
func TestCksumMatchesPOSIXCksum(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want uint32
	}{
		{nil, 4294967295},
		{[]byte("123456789"), 930766865},
		{make([]byte, 100000), 1260869142},
	} {
		var c cksum
		c.Write(tc.data)
		if got := c.Sum32(); got != tc.want {
			t.Errorf("cksum of %d bytes = %d, want %d", len(tc.data), got, tc.want)
		}
		// Split writes give the same sum.
		c.Reset()
		for _, b := range tc.data {
			c.Write([]byte{b})
		}
		if got := c.Sum32(); got != tc.want {
			t.Errorf("cksum of %d bytes written one by one = %d, want %d", len(tc.data), got, tc.want)
		}
	}
}

// The eight-bytes-a-step path agrees with the byte-wise one, whatever the
// alignment and split of the writes.
func TestCksumSlicingMatchesBytewise(t *testing.T) {
	data := make([]byte, 4099)
	for i := range data {
		data[i] = byte(i*7919 + i>>3)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 1000, 4099} {
		var whole, split, bytewise cksum
		whole.Write(data[:n])
		for i := 0; i < n; i += 13 {
			split.Write(data[i:min(i+13, n)])
		}
		for _, b := range data[:n] {
			bytewise.Write([]byte{b})
		}
		if whole.Sum32() != bytewise.Sum32() || split.Sum32() != bytewise.Sum32() {
			t.Errorf("%d bytes: whole %d, split %d, byte-wise %d", n, whole.Sum32(), split.Sum32(), bytewise.Sum32())
		}
	}
	if n, _ := new(cksum).Write(data); n != len(data) {
		t.Errorf("Write returned %d for %d bytes", n, len(data))
	}
}

func BenchmarkCksum(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	var c cksum
	for b.Loop() {
		c.Write(data)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{
		"md5": MD5, "MD5": MD5, "SHA-1": SHA1, "sha256": SHA256, "SHA_256": SHA256,
		" SHA-512 ": SHA512, "CKSUM": Cksum,
	} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "crc32", "sha3"} {
		if _, err := ParseAlgorithm(in); err == nil || !strings.Contains(err.Error(), "md5, sha1, sha256, sha512 or cksum") {
			t.Errorf("ParseAlgorithm(%q): %v, want an error listing the algorithms", in, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	data := []byte("granule data")
	m := md5.Sum(data)
	s := sha256.Sum256(data)
	for _, tc := range []struct {
		in   Checksum
		want Checksum
	}{
		{Checksum{"MD5", strings.ToUpper(hex.EncodeToString(m[:]))}, Checksum{MD5, hex.EncodeToString(m[:])}},
		{Checksum{"SHA-256", base64.StdEncoding.EncodeToString(s[:])}, Checksum{SHA256, hex.EncodeToString(s[:])}},
		{Checksum{"cksum", " 0930766865 "}, Checksum{Cksum, "930766865"}},
	} {
		got, err := normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("normalize(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []Checksum{
		{"md5", "abc"},                       // too short
		{"sha256", hex.EncodeToString(m[:])}, // an md5 given as sha256
		{"cksum", "ffff"},                    // not decimal
		{"cksum", "4294967296"},              // over 32 bits
		{"crc", "00"},
	} {
		if _, err := normalize(in); err == nil {
			t.Errorf("normalize(%v) accepted it", in)
		}
	}
}

func TestHashingReaderComputesEveryAlgorithm(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100000)
	m, s1, s256, s512 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data), sha512.Sum512(data)
	var c cksum
	c.Write(data)
	want := map[Algorithm]string{
		MD5: hex.EncodeToString(m[:]), SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]), Cksum: format(Cksum, c.Sum(nil)),
	}
	for alg, w := range want {
		h := newHashingReader(bytes.NewReader(data), alg)
		buf := make([]byte, 7777) // reads not aligned to anything
		for {
			if _, err := h.Read(buf); err != nil {
				break
			}
		}
		h.finish()
		if got := h.sum(alg); got != w {
			t.Errorf("%s = %s, want %s", alg, got, w)
		}
		if h.n != int64(len(data)) || h.sum(MD5) != want[MD5] || h.sum(SHA256) != want[SHA256] {
			t.Errorf("%s: size %d, md5 %s, sha256 %s", alg, h.n, h.sum(MD5), h.sum(SHA256))
		}
	}
}
