package builtin

import (
	"context"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// Checksum is the checksum step: it computes `algorithm` (md5, sha1,
// sha256, sha512 or cksum, the POSIX CRC) over each of the granule's files,
// streaming them from S3, and records it as the file's checksum. With
// `verify` (default true) a file that already has a known checksum of that
// algorithm, recorded on the file (by the provider or sync_granule) or held
// by its sidecar, must match; a mismatch is fatal.
//
// Sidecars themselves are not checksummed: they only carry checksums and
// are not published. A file's recorded checksum of another algorithm is
// replaced, since a file records one.
//
// Outputs: files, the granule's files with checksum and checksum_type set.
func Checksum(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "checksum"
	args, c, err := env.begin(step, false, in)
	if err != nil {
		return contract.Result{}, err
	}
	alg, err := checksum.ParseAlgorithm(args.string("algorithm"))
	if err != nil {
		return contract.Result{}, fatalf("%s: %w", step, err)
	}
	verify := args.bool("verify")
	g := cloneGranule(in.Granule)
	log := env.logger().With("step", step, "granule", g.ID)

	var fromSidecars map[int][]knownSum
	if verify {
		if fromSidecars, err = sidecarSums(ctx, env, c, g); err != nil {
			return contract.Result{}, err
		}
	}
	for i := range g.Files {
		f := &g.Files[i]
		if b := fileBlock(c, *f); b != nil && b.ChecksumFor != "" {
			continue
		}
		sum, n, err := hashObject(ctx, env.S3, f.Bucket, f.Key, alg)
		if err != nil {
			return contract.Result{}, fmt.Errorf("granule %s: file %q: %w", g.ID, f.Name, err)
		}
		if f.Size > 0 && n != f.Size {
			return contract.Result{}, fatalf("granule %s: file %q (%s) is %d bytes, but the granule records %d: it changed after it was staged",
				g.ID, f.Name, s3url(f.Bucket, f.Key), n, f.Size)
		}
		if verify {
			var known []knownSum
			if recorded, err := checksum.ParseAlgorithm(f.ChecksumType); err == nil && recorded == alg && f.Checksum != "" {
				known = append(known, knownSum{SidecarSum: checksum.SidecarSum{Algorithm: alg, Value: f.Checksum}, From: "the granule's record"})
			}
			for _, s := range fromSidecars[i] {
				if s.Algorithm == alg {
					s.From = fmt.Sprintf("sidecar %q", s.From)
					known = append(known, s)
				}
			}
			for _, k := range known {
				if !checksum.Equal(alg, sum, k.Value) {
					return contract.Result{}, fatalf("granule %s: checksum mismatch for file %q (%s): %s says %s %s, computed %s",
						g.ID, f.Name, s3url(f.Bucket, f.Key), k.From, alg, k.Value, sum)
				}
			}
			if len(known) > 0 {
				log.Debug("checksum verified", "file", f.Name, "algorithm", alg)
			}
		}
		f.Checksum, f.ChecksumType, f.Size = sum, string(alg), n
	}
	log.Info("checksums computed", "algorithm", alg, "files", len(g.Files))
	return contract.Result{Granule: g, Outputs: map[string]any{"files": outputFiles(g)}}, nil
}
