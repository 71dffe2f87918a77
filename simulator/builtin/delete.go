package builtin

import (
	"context"
	"fmt"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// DeleteStaged is delete_staged: it removes what remains of the granule in
// the staging bucket (Env.StagingBucket), that is the granule's files still
// recorded there, and drops them from the granule.
//
// With `keep_unarchived` (default true) a staged file is deleted only when
// its archive location holds the same bytes (same size and ETag); one with
// no archived copy stays: a file whose block routes it to staging (a
// sidecar), one no block archives (the metadata record), one a skip left
// behind, one whose move failed. With keep_unarchived = false every staged
// file of the granule is deleted.
//
// Outputs: deleted, the staging keys deleted, in the granule's file order.
func DeleteStaged(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "delete_staged"
	args, c, err := env.begin(step, true, in)
	if err != nil {
		return contract.Result{}, err
	}
	keep := args.bool("keep_unarchived")
	g := cloneGranule(in.Granule)
	log := env.logger().With("step", step, "granule", g.ID)

	deleted := []string{}
	kept := g.Files[:0:0]
	for _, f := range g.Files {
		if f.Bucket != env.StagingBucket {
			kept = append(kept, f)
			continue
		}
		if keep {
			archived, err := hasArchivedCopy(ctx, env, c, g, f)
			if err != nil {
				return contract.Result{}, err
			}
			if !archived {
				log.Debug("kept unarchived file", "file", f.Name, "at", s3url(f.Bucket, f.Key))
				kept = append(kept, f)
				continue
			}
		}
		// DeleteObject succeeds on a missing key, so a re-run after a
		// partial delete goes through.
		if err := deleteObject(ctx, env.S3, f.Bucket, f.Key); err != nil {
			return contract.Result{}, fmt.Errorf("granule %s: file %q: %w", g.ID, f.Name, err)
		}
		deleted = append(deleted, f.Key)
	}
	g.Files = kept
	log.Info("staging cleaned", "deleted", len(deleted), "kept", len(kept))
	return contract.Result{Granule: g, Outputs: map[string]any{"deleted": deleted}}, nil
}

// hasArchivedCopy says whether f's archive location, in another bucket,
// holds the same bytes as the staged f.
func hasArchivedCopy(ctx context.Context, env Env, c *graph.Collection, g contract.Granule, f contract.File) (bool, error) {
	dst, _, ok, err := env.archiveLocation(c, g, f)
	if err != nil {
		return false, err
	}
	if !ok || dst.Bucket == f.Bucket {
		return false, nil
	}
	staged, stagedOK, err := head(ctx, env.S3, f.Bucket, f.Key)
	if err != nil {
		return false, fmt.Errorf("granule %s: file %q: %w", g.ID, f.Name, err)
	}
	if !stagedOK {
		// Already gone: deleting it again is harmless and drops it from
		// the granule, which should not list an object that is not there.
		return true, nil
	}
	archived, archivedOK, err := head(ctx, env.S3, dst.Bucket, dst.Key)
	if err != nil {
		return false, fmt.Errorf("granule %s: file %q: %w", g.ID, f.Name, err)
	}
	return archivedOK && sameObject(staged, archived), nil
}
