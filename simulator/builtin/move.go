package builtin

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// MoveGranule is move_granule: each file goes from where it is staged to
// its archive location (see the package comment): CopyObject, then
// DeleteObject of the staged object. A file whose block routes it to the
// bucket it is already in (a sidecar kept in staging, or a file already
// archived by an earlier run) and a file that matches no block stay put.
//
// When the destination already holds an object, the duplicates policy
// (the step's `duplicates`, else the collection's, else "error") decides:
//
//	skip     keep the archived object. The staged file is not archived: it
//	         stays in staging and in the granule at its staged location, so
//	         nothing is lost (delete_staged keeps it unless told otherwise).
//	replace  overwrite the archived object.
//	version  keep both: the archived object stays at its key (version 1),
//	         the new one is written at the key plus ".v<N>", N being one
//	         more than the highest version there (".v2" first). A delivery
//	         whose bytes are already archived under one of the versions is
//	         not stored again.
//	error    fail the step, naming the key; fatal.
//
// Whatever the policy, a destination that holds the same bytes as the
// staged file (same size and ETag) is taken as already archived, and the
// staged copy is deleted. With the next rule this makes the step
// idempotent: a staged object that is gone while its destination holds an
// object of the file's size is a move that crashed between copy and delete,
// and counts as done.
//
// Outputs: files, the granule's files at their archive locations.
func MoveGranule(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "move_granule"
	args, c, err := env.begin(step, false, in)
	if err != nil {
		return contract.Result{}, err
	}
	policy := args.duplicates(c)
	g := cloneGranule(in.Granule)
	log := env.logger().With("step", step, "granule", g.ID)

	for i := range g.Files {
		f := &g.Files[i]
		dst, _, ok, err := env.archiveLocation(c, g, *f)
		if err != nil {
			return contract.Result{}, err
		}
		if !ok || dst.Bucket == f.Bucket {
			log.Debug("file stays", "file", f.Name, "at", s3url(f.Bucket, f.Key))
			continue
		}
		moved, err := moveFile(ctx, env.S3, log, g.ID, *f, dst, policy)
		if err != nil {
			return contract.Result{}, err
		}
		*f = moved
	}
	return contract.Result{Granule: g, Outputs: map[string]any{"files": outputFiles(g)}}, nil
}

// moveFile archives one file at dst under the duplicates policy and
// returns the file as it now is.
func moveFile(ctx context.Context, c S3, log *slog.Logger, granule string, f contract.File, dst location, policy string) (contract.File, error) {
	from, to := s3url(f.Bucket, f.Key), s3url(dst.Bucket, dst.Key)
	src, srcOK, err := head(ctx, c, f.Bucket, f.Key)
	if err != nil {
		return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
	}
	existing, dstOK, err := head(ctx, c, dst.Bucket, dst.Key)
	if err != nil {
		return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
	}
	at := func(l location, size int64) contract.File {
		f.Bucket, f.Key, f.Size = l.Bucket, l.Key, size
		return f
	}

	if !srcOK {
		// Gone from staging: an earlier attempt copied it and crashed
		// before (or after) deleting it. Its copy is where this policy
		// would have put it.
		done, size, found, err := findEarlierCopy(ctx, c, f, dst, existing, dstOK, policy)
		if err != nil {
			return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
		}
		if found {
			log.Info("file already archived", "file", f.Name, "at", s3url(done.Bucket, done.Key))
			return at(done, size), nil
		}
		return f, fatalf("granule %s: file %q: the staged object %s is gone, and %s holds no %d-byte copy of it; acquire the granule again",
			granule, f.Name, from, to, f.Size)
	}

	moveTo := func(l location) (contract.File, error) {
		if err := copyObject(ctx, c, f.Bucket, f.Key, l.Bucket, l.Key); err != nil {
			return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
		}
		if err := deleteObject(ctx, c, f.Bucket, f.Key); err != nil {
			return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
		}
		log.Info("file archived", "file", f.Name, "from", from, "to", s3url(l.Bucket, l.Key))
		return at(l, src.Size), nil
	}

	switch {
	case !dstOK:
		return moveTo(dst)
	case sameObject(src, existing):
		if err := deleteObject(ctx, c, f.Bucket, f.Key); err != nil {
			return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
		}
		log.Info("file already archived", "file", f.Name, "at", to)
		return at(dst, existing.Size), nil
	}

	switch policy {
	case "skip":
		log.Warn("archive already holds a different file: kept it, the staged file stays in staging",
			"file", f.Name, "archived", to, "staged", from)
		f.Size = src.Size
		return f, nil
	case "replace":
		return moveTo(dst)
	case "version":
		versions, err := listVersions(ctx, c, dst)
		if err != nil {
			return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
		}
		for _, v := range versions {
			if sameObject(src, v.object) {
				if err := deleteObject(ctx, c, f.Bucket, f.Key); err != nil {
					return f, fmt.Errorf("granule %s: file %q: %w", granule, f.Name, err)
				}
				log.Info("file already archived", "file", f.Name, "at", s3url(dst.Bucket, v.Key))
				return at(location{Bucket: dst.Bucket, Key: v.Key}, v.Size), nil
			}
		}
		next := 2
		if len(versions) > 0 {
			next = versions[len(versions)-1].N + 1
		}
		return moveTo(location{Bucket: dst.Bucket, Key: versionKey(dst.Key, next)})
	default: // "error"; readInputs and the checker allow nothing else
		return f, fatalf("granule %s: file %q: %s already exists and holds a different file (duplicates = %q); set duplicates to skip, replace or version to archive it anyway",
			granule, f.Name, to, policy)
	}
}

// findEarlierCopy looks for the copy a crashed attempt made of f: at dst,
// or for the version policy at the highest version. A copy is recognised
// by its size, all that is left to compare once the staged object is gone.
func findEarlierCopy(ctx context.Context, c S3, f contract.File, dst location, existing object, dstOK bool, policy string) (location, int64, bool, error) {
	if policy == "version" {
		versions, err := listVersions(ctx, c, dst)
		if err != nil {
			return location{}, 0, false, err
		}
		if n := len(versions); n > 0 {
			v := versions[n-1]
			if v.Size == f.Size {
				return location{Bucket: dst.Bucket, Key: v.Key}, v.Size, true, nil
			}
			return location{}, 0, false, nil
		}
	}
	if dstOK && existing.Size == f.Size {
		return dst, existing.Size, true, nil
	}
	return location{}, 0, false, nil
}

// version is one ".v<N>" copy of an archived key.
type version struct {
	object
	Key string
	N   int
}

func versionKey(key string, n int) string { return key + ".v" + strconv.Itoa(n) }

// listVersions lists the ".v<N>" copies of dst, in order of N.
func listVersions(ctx context.Context, c S3, dst location) ([]version, error) {
	objs, err := listKeys(ctx, c, dst.Bucket, dst.Key+".v")
	if err != nil {
		return nil, err
	}
	var out []version
	for _, o := range objs {
		key := aws.ToString(o.Key)
		digits := strings.TrimPrefix(key, dst.Key+".v")
		n, err := strconv.Atoi(digits)
		if err != nil || n < 2 || strconv.Itoa(n) != digits {
			continue // another file whose name merely starts the same way
		}
		out = append(out, version{object: object{Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}, Key: key, N: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}
