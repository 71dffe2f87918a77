package builtin

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/stdlib/checksum"
)

// SyncGranule is sync_granule. Acquisition has already staged the granule's
// files (in the simulator and on AWS alike, the poller copies as it finds),
// so this step makes sure of what was staged: every file is there, its size
// is the one the provider listed, and, with `checksum` (default true), each
// file that has a sidecar (a file block with checksum_for) matches the
// checksum the sidecar holds. A mismatch is fatal: retrying reads the same
// bytes. Checksums read from sidecars are recorded on their files even when
// `checksum` is false, so later steps and the metadata can use them.
//
// `duplicates` is accepted and checked, but has nothing to decide here: the
// poller, which does the copying, has already applied it.
//
// Outputs: files, the granule's files as staged.
func SyncGranule(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "sync_granule"
	args, c, err := env.begin(step, false, in)
	if err != nil {
		return contract.Result{}, err
	}
	g := cloneGranule(in.Granule)
	log := env.logger().With("step", step, "granule", g.ID)

	for i := range g.Files {
		f := &g.Files[i]
		obj, ok, err := head(ctx, env.S3, f.Bucket, f.Key)
		if err != nil {
			return contract.Result{}, fmt.Errorf("granule %s: file %q: %w", g.ID, f.Name, err)
		}
		if !ok {
			return contract.Result{}, fatalf("granule %s: file %q is not staged: %s does not exist", g.ID, f.Name, s3url(f.Bucket, f.Key))
		}
		if f.Size > 0 && f.Size != obj.Size {
			return contract.Result{}, fatalf("granule %s: file %q: %s is %d bytes, but the provider listed %d: the transfer was cut short or the file changed at the provider; acquire it again",
				g.ID, f.Name, s3url(f.Bucket, f.Key), obj.Size, f.Size)
		}
		f.Size = obj.Size
	}

	verify := args.bool("checksum")
	known, err := sidecarSums(ctx, env, c, g)
	if err != nil {
		return contract.Result{}, err
	}
	for _, i := range sortedIndexes(known) {
		f := &g.Files[i]
		for _, s := range known[i] {
			if verify {
				got, _, err := hashObject(ctx, env.S3, f.Bucket, f.Key, s.Algorithm)
				if err != nil {
					return contract.Result{}, fmt.Errorf("granule %s: verifying file %q: %w", g.ID, f.Name, err)
				}
				if !checksum.Equal(s.Algorithm, got, s.Value) {
					return contract.Result{}, fatalf("granule %s: checksum mismatch for file %q (%s): sidecar %q says %s %s, the staged file's is %s",
						g.ID, f.Name, s3url(f.Bucket, f.Key), s.From, s.Algorithm, s.Value, got)
				}
			}
			f.Checksum, f.ChecksumType = s.Value, string(s.Algorithm)
		}
	}
	log.Info("granule staged", "files", len(g.Files), "verified", verify)
	return contract.Result{Granule: g, Outputs: map[string]any{"files": outputFiles(g)}}, nil
}

// knownSum is a checksum a sidecar gives for a file.
type knownSum struct {
	checksum.SidecarSum
	From string // the sidecar's name
}

// sidecarSums reads the granule's sidecars (files whose block has
// checksum_for) and returns, by index in g.Files, the checksums they hold
// for the files they are for.
func sidecarSums(ctx context.Context, env Env, c *graph.Collection, g contract.Granule) (map[int][]knownSum, error) {
	known := map[int][]knownSum{}
	for _, sc := range g.Files {
		block := fileBlock(c, sc)
		if block == nil || block.ChecksumFor == "" {
			continue
		}
		var targets []int
		for j, f := range g.Files {
			if f.Type == block.ChecksumFor {
				targets = append(targets, j)
			}
		}
		if len(targets) == 0 {
			// The checker lets a sidecar's data file be optional, so this
			// is odd but not wrong: there is nothing to verify.
			env.logger().Warn("sidecar has no file to verify", "granule", g.ID, "sidecar", sc.Name, "checksum_for", block.ChecksumFor)
			continue
		}
		content, err := readSmallObject(ctx, env.S3, sc.Bucket, sc.Key)
		if err != nil {
			return nil, fmt.Errorf("granule %s: sidecar %q: %w", g.ID, sc.Name, err)
		}
		sums, err := checksum.ParseSidecar(content, sc.Name)
		if err != nil {
			return nil, fatalf("granule %s: sidecar %q (%s) is not a checksum file: %w", g.ID, sc.Name, s3url(sc.Bucket, sc.Key), err)
		}
		matched := 0
		for _, j := range targets {
			name := g.Files[j].Name
			s, ok := checksum.SumFor(sums, name)
			if !ok || s.Name == "" && len(targets) > 1 && stem(sc.Name) != name {
				// A bare checksum with several candidate files goes only to
				// the one the sidecar is named after ("x.nc" for "x.nc.md5").
				continue
			}
			matched++
			known[j] = append(known[j], knownSum{SidecarSum: s, From: sc.Name})
		}
		if matched == 0 {
			names := make([]string, len(targets))
			for k, j := range targets {
				names[k] = g.Files[j].Name
			}
			return nil, fatalf("granule %s: sidecar %q holds no checksum for the granule's %q files %q", g.ID, sc.Name, block.ChecksumFor, names)
		}
	}
	return known, nil
}

// sortedIndexes returns the map's keys in order, so files are verified
// (and errors reported) in the granule's order on every run.
func sortedIndexes[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// stem is a sidecar's name without its extension: "x.nc" for "x.nc.md5".
func stem(name string) string { return name[:len(name)-len(path.Ext(name))] }
