package stage

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// The algorithms and their parsing are stdlib/checksum's, tested there;
// this only checks that stage's names are those.
func TestParseAlgorithm(t *testing.T) {
	if got, err := ParseAlgorithm("SHA-256"); err != nil || got != checksum.SHA256 {
		t.Errorf("ParseAlgorithm(SHA-256) = %q, %v", got, err)
	}
	if _, err := ParseAlgorithm("crc32"); err == nil {
		t.Error("ParseAlgorithm(crc32) accepted it")
	}
}

func TestHashingReaderComputesEveryAlgorithm(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100000)
	m, s1, s256, s512 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data), sha512.Sum512(data)
	c := checksum.New(Cksum)
	c.Write(data)
	want := map[Algorithm]string{
		MD5: hex.EncodeToString(m[:]), SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]), Cksum: checksum.Format(Cksum, c.Sum(nil)),
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
		if h.n != int64(len(data)) || h.sum(MD5) != want[MD5] {
			t.Errorf("%s: size %d, md5 %s", alg, h.n, h.sum(MD5))
		}
	}
}
