package stage

import "github.com/cumulus-toolchain/cumulus/stdlib/checksum"

// Algorithm names a checksum algorithm as granule documents name it
// (contract.File.ChecksumType) and the standard checksum step offers it.
// It is checksum.Algorithm.
type Algorithm = checksum.Algorithm

// The algorithms providers publish checksums in.
const (
	MD5    = checksum.MD5
	SHA1   = checksum.SHA1
	SHA256 = checksum.SHA256
	SHA512 = checksum.SHA512
	// Cksum is the CRC of POSIX cksum(1), written in decimal as cksum
	// prints it; some providers publish nothing else.
	Cksum = checksum.Cksum
)

// ParseAlgorithm reads an algorithm name as providers write it: case does
// not matter, nor do '-' or '_' ("SHA-256", "sha256", "CKSUM").
func ParseAlgorithm(name string) (Algorithm, error) { return checksum.ParseAlgorithm(name) }

// Checksum is a file's checksum: an algorithm and its value, hex for the
// digests (base64 is accepted too, as S3 writes them) and decimal for
// cksum. The zero Checksum means none is known. It is checksum.Checksum.
type Checksum = checksum.Checksum
