package executor

import (
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// uploadChecksumType is the checksum computed for uploaded outputs: SHA-256,
// the strongest of the types granule documents commonly carry.
const uploadChecksumType = string(checksum.SHA256)

// verifier hashes what is written to it and checks it against a checksum.
type verifier struct {
	hash.Hash
	want  checksum.Checksum // canonical
	given string            // the checksum as the granule wrote it
}

// newVerifier returns nil when f has no checksum: nothing to verify. The
// checksum may be hex (as archives write it) or base64 (as S3 does); an
// untyped one is told by its length in hex.
func newVerifier(value, typ string) (*verifier, error) {
	if value == "" {
		return nil, nil
	}
	var alg checksum.Algorithm
	if typ == "" {
		var ok bool
		if alg, ok = checksum.InferHex(value); !ok {
			return nil, fmt.Errorf("checksum %q has no type and its length says none", value)
		}
	} else {
		var err error
		if alg, err = checksum.ParseAlgorithm(typ); err != nil {
			return nil, err
		}
	}
	want, err := checksum.Normalize(checksum.Checksum{Algorithm: alg, Value: value})
	if err != nil {
		return nil, err
	}
	return &verifier{Hash: checksum.New(alg), want: want, given: value}, nil
}

// check compares the sum with the checksum.
func (v *verifier) check() error {
	if got := checksum.Format(v.want.Algorithm, v.Sum(nil)); got != v.want.Value {
		return fmt.Errorf("%s checksum mismatch: got %s, want %s", v.want.Algorithm, got, v.given)
	}
	return nil
}

// fileChecksum is the size and uploadChecksumType checksum (hex) of a file.
func fileChecksum(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := checksum.New(checksum.SHA256)
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return n, checksum.Format(checksum.SHA256, h.Sum(nil)), nil
}
