package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/lang"
	"github.com/cumulus-toolchain/cumulus/simulator/acquire"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
	"github.com/cumulus-toolchain/cumulus/simulator/stage"
	"github.com/cumulus-toolchain/cumulus/stdlib"
)

// Poller is a source's poller on AWS (`cumulus poll -source NAME` in the
// platform image, started by the source's EventBridge schedule): one pass
// over the provider that stages each new granule and writes its manifest,
// which starts its run.
type Poller struct {
	Config *lang.Config
	// S3 reaches the staging bucket (and S3 providers).
	S3 *s3.Client
	// StagingBucket is the private bucket granules are staged in.
	StagingBucket string
	Logger        *slog.Logger
	// Env is the process environment: providers' credentials
	// (CUMULUS_PROVIDER_NAME_USER, ..._PASSWORD).
	Env []string
	// Now stamps manifests; nil means the system clock.
	Now func() time.Time
}

// PollSummary counts what one pass did.
type PollSummary struct {
	Found, Staged, Unchanged, Duplicates, Waiting, Failed int
}

// Poll makes one pass over source. It fails only when the provider cannot
// be listed: a granule that fails to stage is logged, counted and tried
// again at the next pass.
func (p *Poller) Poll(ctx context.Context, source string) (PollSummary, error) {
	var sum PollSummary
	var src *lang.Source
	for _, s := range p.Config.Sources {
		if s.Name == source {
			src = s
		}
	}
	switch {
	case src == nil:
		return sum, fmt.Errorf("the deployed configuration has no source %q", source)
	case src.Provider == nil || src.Collection == nil || src.Pipeline == nil:
		return sum, fmt.Errorf("source %s has no provider, collection or pipeline", source)
	case src.Provider.Protocol == "local":
		return sum, fmt.Errorf("source %s reads provider %s, a folder on the machine that runs it: on AWS a provider is an FTP, HTTP or S3 server", source, src.Provider.Name)
	}
	log := p.logger().With("source", src.Name)
	lister, err := acquire.New(src.Provider, "", p.S3, acquire.WithLogger(log), acquire.WithEnv(p.Env))
	if err != nil {
		return sum, fmt.Errorf("source %s: %w", src.Name, err)
	}
	defer lister.Close()
	stager, err := stage.New(p.S3, stage.Options{Logger: log})
	if err != nil {
		return sum, err
	}
	candidates, err := acquire.Poll(ctx, lister, src, nil)
	if err != nil {
		return sum, fmt.Errorf("source %s: %w", src.Name, err)
	}
	for _, c := range candidates {
		if c.GranuleID == "" {
			continue
		}
		if !c.Ready {
			sum.Waiting++
			log.Info("granule waits for files", "granule", c.GranuleID, "missing", c.Missing)
			continue
		}
		sum.Found++
		outcome, err := p.ingest(ctx, lister, stager, src, c)
		if err != nil {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			sum.Failed++
			log.Error("granule not staged", "granule", c.GranuleID, "err", err)
			continue
		}
		switch outcome {
		case "staged":
			sum.Staged++
		case "unchanged":
			sum.Unchanged++
		case "duplicate":
			sum.Duplicates++
		}
	}
	log.Info("poll done", "found", sum.Found, "staged", sum.Staged, "unchanged", sum.Unchanged, "duplicates", sum.Duplicates, "waiting", sum.Waiting, "failed", sum.Failed)
	return sum, nil
}

// ingest stages one granule unless its manifest says it was staged with
// the same files, and writes the manifest last.
func (p *Poller) ingest(ctx context.Context, lister acquire.Lister, stager *stage.Stager, src *lang.Source, c acquire.Candidate) (string, error) {
	col := src.Collection
	key := ManifestKey(col.Name, c.GranuleID, src.Name)
	prev, found, err := p.manifest(ctx, key)
	if err != nil {
		return "", err
	}
	if found {
		if sameFiles(prev.Files, c.Files) {
			return "unchanged", nil
		}
		switch col.Duplicates {
		case "skip":
			p.logger().Info("granule changed at the provider; duplicates = skip", "granule", c.GranuleID)
			return "duplicate", nil
		case "error":
			return "", fmt.Errorf("granule %s changed at the provider after it was ingested, and collection %s says duplicates = \"error\"", c.GranuleID, col.Name)
		}
		// replace and version: stage it again; the new manifest starts a
		// new run.
	}
	doc := contract.Granule{ID: c.GranuleID, Collection: col.Name, Version: col.Version, Files: []contract.File{}}
	if t, ok := stdlib.GranuleDate(c.GranuleID); ok {
		doc.Date = t.Format("2006-01-02")
	}
	m := Manifest{Pipeline: src.Pipeline.Name, Source: src.Name}
	for _, f := range c.Files {
		if f.Name != path.Base(f.Name) || f.Name == "" {
			return "", fmt.Errorf("file %q: not a plain name", f.Name)
		}
		fkey := path.Join(col.Name, c.GranuleID, f.Name)
		r, err := lister.Open(ctx, f.RemoteFile)
		if err != nil {
			return "", fmt.Errorf("fetching %s: %w", f.URL, err)
		}
		res, err := stager.Upload(ctx, p.StagingBucket, fkey, r, stage.Checksum{})
		r.Close()
		if err != nil {
			return "", fmt.Errorf("staging %s: %w", f.URL, err)
		}
		doc.Files = append(doc.Files, contract.File{Name: f.Name, Type: f.Type, Bucket: p.StagingBucket, Key: fkey, Size: res.Size, Checksum: res.MD5, ChecksumType: "md5", Source: f.URL})
		m.Files = append(m.Files, SeenFile{URL: f.URL, Size: f.Size, ModTime: f.ModTime})
	}
	m.Granule, m.Staged = doc, p.now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the manifest: %w", err)
	}
	_, err = p.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.StagingBucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentType: aws.String("application/json")})
	if err != nil {
		return "", fmt.Errorf("writing the manifest s3://%s/%s: %w", p.StagingBucket, key, err)
	}
	p.logger().Info("granule staged", "granule", c.GranuleID, "files", len(doc.Files), "manifest", key)
	return "staged", nil
}

func (p *Poller) manifest(ctx context.Context, key string) (Manifest, bool, error) {
	if ok, err := exists(ctx, p.S3, p.StagingBucket, key); err != nil {
		return Manifest{}, false, fmt.Errorf("looking for the manifest s3://%s/%s: %w", p.StagingBucket, key, err)
	} else if !ok {
		return Manifest{}, false, nil
	}
	out, err := p.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.StagingBucket), Key: aws.String(key)})
	if err != nil {
		return Manifest{}, false, fmt.Errorf("reading the manifest s3://%s/%s: %w", p.StagingBucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return Manifest{}, false, fmt.Errorf("reading the manifest s3://%s/%s: %w", p.StagingBucket, key, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		// Not ours, or damaged: staging again writes a good one.
		return Manifest{}, true, nil
	}
	return m, true, nil
}

// sameFiles says whether the provider's files are those a manifest
// recorded: the same URLs, sizes and times.
func sameFiles(seen []SeenFile, files []acquire.File) bool {
	if len(seen) != len(files) {
		return false
	}
	byURL := map[string]SeenFile{}
	for _, s := range seen {
		byURL[s.URL] = s
	}
	for _, f := range files {
		s, ok := byURL[f.URL]
		if !ok || s.Size != f.Size || !s.ModTime.Equal(f.ModTime) {
			return false
		}
	}
	return true
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Poller) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}
