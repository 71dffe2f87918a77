package executor

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// uploadChecksumType is the checksum computed for uploaded outputs: SHA-256,
// the strongest of the types granule documents commonly carry.
const uploadChecksumType = "sha256"

// newHash returns the hash of a checksum type as granule documents name it.
func newHash(typ string) (hash.Hash, error) {
	switch strings.ToLower(strings.ReplaceAll(typ, "-", "")) {
	case "md5":
		return md5.New(), nil
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported checksum type %q (md5, sha1, sha256 and sha512 are)", typ)
}

// verifier hashes what is written to it and checks it against a checksum.
type verifier struct {
	hash.Hash
	typ, want string
}

// newVerifier returns nil when f has no checksum: nothing to verify.
func newVerifier(checksum, typ string) (*verifier, error) {
	if checksum == "" {
		return nil, nil
	}
	if typ == "" {
		// An untyped checksum is told by its length in hex.
		typ = map[int]string{32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}[len(checksum)]
		if typ == "" {
			return nil, fmt.Errorf("checksum %q has no type and its length says none", checksum)
		}
	}
	h, err := newHash(typ)
	if err != nil {
		return nil, err
	}
	return &verifier{Hash: h, typ: typ, want: checksum}, nil
}

// check compares the sum with the checksum, written in hex (as archives
// do) or base64 (as S3 does).
func (v *verifier) check() error {
	sum := v.Sum(nil)
	if strings.EqualFold(v.want, hex.EncodeToString(sum)) || v.want == base64.StdEncoding.EncodeToString(sum) {
		return nil
	}
	return fmt.Errorf("%s checksum mismatch: got %s, want %s", v.typ, hex.EncodeToString(sum), v.want)
}

// fileChecksum is the size and uploadChecksumType checksum (hex) of a file.
func fileChecksum(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
