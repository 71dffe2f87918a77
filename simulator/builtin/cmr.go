package builtin

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/simulator/contract"
)

// The UMM-G version the records follow. CMR takes 1.6.6 and 1.6.7; 1.6.6
// is what most tools in the field write, and what the tests validate
// against (NASA's schema, in shared/umm-g).
const (
	UMMGVersion     = "1.6.6"
	UMMGURL         = "https://cdn.earthdata.nasa.gov/umm/granule/v" + UMMGVersion
	UMMGContentType = "application/vnd.nasa.cmr.umm+json;version=" + UMMGVersion
)

// MetadataType is the Type of the granule file that holds its UMM-G record.
const MetadataType = "metadata"

// Publisher sends a UMM-G record to NASA's Common Metadata Repository. The
// platform's implementation calls CMR's ingest API; the simulator has none
// unless one is configured, and then cmr_metadata refuses publish = true.
type Publisher interface {
	Publish(ctx context.Context, r PublishRequest) (conceptID string, err error)
}

// PublishRequest is one record to publish.
type PublishRequest struct {
	// Environment is "UAT", "SIT" or "OPS" (the step's cmr_environment).
	Environment string
	// Provider is the CMR provider id, "" for the publisher's own.
	Provider string
	// GranuleUR is the record's native id in CMR (the granule id).
	GranuleUR  string
	Collection string
	Version    string
	// Record is the UMM-G JSON; ContentType says its version.
	Record      []byte
	ContentType string
}

// CMRMetadata is cmr_metadata: it builds the granule's UMM-G record, writes
// it as <granule id>.cmr.json beside the granule in the staging bucket (in
// the folder of its first staged file, else <collection>/<granule id>/),
// adds it to the granule's files with Type "metadata", and with
// `publish` sends it to CMR through Env.Publisher.
//
// The record links each distributed file (one in a bucket that is not
// private) where move_granule archives it, or already did: the same rules
// decide, so the record can be written before or after the move.
//
// Outputs: metadata (the record, JSON), concept_id (CMR's id for it, ""
// when not published).
func CMRMetadata(ctx context.Context, env Env, in contract.Input) (contract.Result, error) {
	const step = "cmr_metadata"
	if err := env.check(step, true); err != nil {
		return contract.Result{}, err
	}
	args, err := readInputs(step, in.With)
	if err != nil {
		return contract.Result{}, err
	}
	publish := args.bool("publish")
	if publish && env.Publisher == nil {
		// Refused before anything is written: a run that cannot publish
		// should not leave a record that looks published.
		return contract.Result{}, fatalf("granule %s: publish = true, but no CMR endpoint is configured, and the simulator cannot reach CMR; set publish = false in the step's with to only generate the record, or configure a CMR endpoint", in.Granule.ID)
	}
	c, err := env.collection(in.Granule)
	if err != nil {
		return contract.Result{}, err
	}
	g := cloneGranule(in.Granule)
	name := g.ID + ".cmr.json"
	record, err := env.ummG(c, g, name)
	if err != nil {
		return contract.Result{}, err
	}
	body, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		return contract.Result{}, fmt.Errorf("granule %s: encoding its UMM-G record: %w", g.ID, err)
	}
	body = append(body, '\n')
	if env.RecordDir != "" {
		// The plain copy beside the granule's state is for people and
		// tools; the step's output is the record in staging.
		if err := writeRecord(env.RecordDir, name, body); err != nil {
			return contract.Result{}, fmt.Errorf("granule %s: keeping its UMM-G record in %s: %w", g.ID, env.RecordDir, err)
		}
	}

	loc := env.metadataLocation(g, name)
	if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(loc.Bucket),
		Key:         aws.String(loc.Key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	}); err != nil {
		return contract.Result{}, fmt.Errorf("granule %s: writing its UMM-G record to %s: %w", g.ID, s3url(loc.Bucket, loc.Key), err)
	}
	sum := md5.Sum(body)
	meta := contract.File{
		Name: name, Type: MetadataType, Bucket: loc.Bucket, Key: loc.Key,
		Size: int64(len(body)), Checksum: hex.EncodeToString(sum[:]), ChecksumType: "md5",
	}
	replaced := false
	for i, f := range g.Files {
		if f.Name == name && f.Type == MetadataType {
			g.Files[i], replaced = meta, true // a re-run replaces its earlier record
		}
	}
	if !replaced {
		g.Files = append(g.Files, meta)
	}

	conceptID := ""
	if publish {
		conceptID, err = env.Publisher.Publish(ctx, PublishRequest{
			Environment: args.string("cmr_environment"),
			Provider:    args.string("provider"),
			GranuleUR:   g.ID,
			Collection:  g.Collection,
			Version:     g.Version,
			Record:      body,
			ContentType: UMMGContentType,
		})
		if err != nil {
			return contract.Result{}, fmt.Errorf("granule %s: publishing to CMR %s: %w", g.ID, args.string("cmr_environment"), err)
		}
	}
	env.logger().Info("metadata written", "step", step, "granule", g.ID, "at", s3url(loc.Bucket, loc.Key), "published", publish)
	return contract.Result{Granule: g, Outputs: map[string]any{"metadata": string(body), "concept_id": conceptID}}, nil
}

// metadataLocation is where the record goes: beside the granule's staged
// files, else in a folder of its own.
func (e Env) metadataLocation(g contract.Granule, name string) location {
	for _, f := range g.Files {
		if f.Bucket == e.StagingBucket && f.Type != MetadataType {
			dir := path.Dir(f.Key)
			if dir == "." {
				return location{Bucket: e.StagingBucket, Key: name}
			}
			return location{Bucket: e.StagingBucket, Key: dir + "/" + name}
		}
	}
	return location{Bucket: e.StagingBucket, Key: g.Collection + "/" + g.ID + "/" + name}
}

// The UMM-G record: only the parts cumulus knows. Field order is the
// schema's, and fixed, so a record is the same bytes on every run.
type ummG struct {
	GranuleUR             string              `json:"GranuleUR"`
	ProviderDates         []ummProviderDate   `json:"ProviderDates"`
	CollectionReference   ummCollection       `json:"CollectionReference"`
	DataGranule           ummDataGranule      `json:"DataGranule"`
	TemporalExtent        *ummTemporalExtent  `json:"TemporalExtent,omitempty"`
	RelatedUrls           []ummRelatedURL     `json:"RelatedUrls,omitempty"`
	MetadataSpecification ummMetadataSpecType `json:"MetadataSpecification"`
}

type ummProviderDate struct {
	Date string `json:"Date"`
	Type string `json:"Type"`
}

type ummCollection struct {
	ShortName string `json:"ShortName"`
	Version   string `json:"Version"`
}

type ummDataGranule struct {
	ArchiveAndDistributionInformation []ummFile `json:"ArchiveAndDistributionInformation,omitempty"`
	DayNightFlag                      string    `json:"DayNightFlag"`
	ProductionDateTime                string    `json:"ProductionDateTime"`
}

type ummFile struct {
	Name        string       `json:"Name"`
	SizeInBytes int64        `json:"SizeInBytes"`
	MimeType    string       `json:"MimeType,omitempty"`
	Checksum    *ummChecksum `json:"Checksum,omitempty"`
}

type ummChecksum struct {
	Value     string `json:"Value"`
	Algorithm string `json:"Algorithm"`
}

type ummTemporalExtent struct {
	RangeDateTime  *ummRange `json:"RangeDateTime,omitempty"`
	SingleDateTime string    `json:"SingleDateTime,omitempty"`
}

type ummRange struct {
	BeginningDateTime string `json:"BeginningDateTime"`
	EndingDateTime    string `json:"EndingDateTime,omitempty"`
}

type ummRelatedURL struct {
	URL      string `json:"URL"`
	Type     string `json:"Type"`
	MimeType string `json:"MimeType,omitempty"`
}

type ummMetadataSpecType struct {
	URL     string `json:"URL"`
	Name    string `json:"Name"`
	Version string `json:"Version"`
}

// ummTime is UMM-G's date-time: RFC 3339 in UTC, to the millisecond.
func ummTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Limits of the schema that a configuration can reach; refused here with
// a message, rather than by CMR at ingest with its own.
const (
	maxGranuleUR = 250
	maxShortName = 85
	maxVersion   = 80
	maxURL       = 1024
)

func (e Env) ummG(c *graph.Collection, g contract.Granule, recordName string) (*ummG, error) {
	switch {
	case len(g.ID) > maxGranuleUR:
		return nil, fatalf("granule %s: the id is %d characters, over UMM-G's %d for GranuleUR", g.ID, len(g.ID), maxGranuleUR)
	case len(g.Collection) > maxShortName:
		return nil, fatalf("granule %s: the collection name %q is over UMM-G's %d characters for a ShortName", g.ID, g.Collection, maxShortName)
	case g.Version == "" || len(g.Version) > maxVersion:
		return nil, fatalf("granule %s: the collection version %q must be 1 to %d characters for UMM-G", g.ID, g.Version, maxVersion)
	}
	now := ummTime(e.now())
	rec := &ummG{
		GranuleUR: g.ID,
		ProviderDates: []ummProviderDate{
			{Date: now, Type: "Insert"},
			{Date: now, Type: "Update"},
		},
		CollectionReference: ummCollection{ShortName: g.Collection, Version: g.Version},
		DataGranule: ummDataGranule{
			// cumulus does not know when or how the instrument observed;
			// "Unspecified" says so, and the time is when this record was made.
			DayNightFlag:       "Unspecified",
			ProductionDateTime: now,
		},
		TemporalExtent: temporalExtent(g),
		MetadataSpecification: ummMetadataSpecType{
			URL: UMMGURL, Name: "UMM-G", Version: UMMGVersion,
		},
	}
	for _, f := range g.Files {
		block := fileBlock(c, f)
		if block != nil && block.ChecksumFor != "" || f.Type == MetadataType && f.Name == recordName {
			continue // sidecars and the record itself are not part of the granule's data
		}
		uf := ummFile{Name: f.Name, SizeInBytes: f.Size, MimeType: mimeType(f.Name)}
		if alg := ummAlgorithm(f.ChecksumType); alg != "" && f.Checksum != "" {
			uf.Checksum = &ummChecksum{Value: f.Checksum, Algorithm: alg}
		}
		rec.DataGranule.ArchiveAndDistributionInformation = append(rec.DataGranule.ArchiveAndDistributionInformation, uf)

		link, ok, err := e.relatedURL(c, g, f)
		if err != nil {
			return nil, err
		}
		if ok {
			rec.RelatedUrls = append(rec.RelatedUrls, link)
		}
	}
	return rec, nil
}

// relatedURL links a distributed file: one archived in a bucket that is not
// private, where move_granule puts it (or, once moved, where it is).
func (e Env) relatedURL(c *graph.Collection, g contract.Granule, f contract.File) (ummRelatedURL, bool, error) {
	loc, block, ok, err := e.archiveLocation(c, g, f)
	if err != nil || !ok || block.BucketKind == "private" || block.BucketKind == "" {
		return ummRelatedURL{}, false, err
	}
	if f.Bucket == loc.Bucket {
		loc.Key = f.Key // archived already, perhaps as a ".v<N>" version
	}
	link := ummRelatedURL{Type: "GET DATA", MimeType: mimeType(f.Name)}
	if isBrowse(f.Name) {
		link.Type = "GET RELATED VISUALIZATION"
	}
	if prefix, ok := e.distributionPrefix(loc.Bucket); ok {
		link.URL = strings.TrimRight(e.DistributionURL, "/") + "/" + escapePath(prefix+"/"+loc.Key)
	} else {
		link.URL = s3url(loc.Bucket, loc.Key)
		if link.Type == "GET DATA" {
			link.Type = "GET DATA VIA DIRECT ACCESS"
		}
	}
	if len(link.URL) > maxURL {
		return ummRelatedURL{}, false, fatalf("granule %s: file %q: its link %q is over UMM-G's %d characters for a URL", g.ID, f.Name, link.URL, maxURL)
	}
	return link, true, nil
}

// temporalExtent is the granule's time as its id tells it: an instant when
// the id carries a time of day (YYYYMMDDTHHMMSS), else the whole day.
// Without a date, nil: UMM-G leaves TemporalExtent optional, and a guessed
// time would mislead searches.
func temporalExtent(g contract.Granule) *ummTemporalExtent {
	t := granuleTime(g)
	if t.IsZero() {
		return nil
	}
	if strings.Contains(g.ID, t.Format("20060102T150405")) {
		return &ummTemporalExtent{SingleDateTime: ummTime(t)}
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &ummTemporalExtent{RangeDateTime: &ummRange{
		BeginningDateTime: ummTime(day),
		EndingDateTime:    ummTime(day.Add(24*time.Hour - time.Millisecond)),
	}}
}

// ummAlgorithm is UMM-G's name for a checksum algorithm ("" if it has none).
func ummAlgorithm(alg string) string {
	switch alg {
	case "md5":
		return "MD5"
	case "sha1":
		return "SHA-1"
	case "sha256":
		return "SHA-256"
	case "sha512":
		return "SHA-512"
	case "cksum":
		return "POSIX"
	}
	return ""
}

func isBrowse(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

// mimeType is the file's type among those UMM-G lists, "" when unknown.
func mimeType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".nc", ".nc4":
		return "application/x-netcdf"
	case ".h5", ".he5", ".hdf5":
		return "application/x-hdf5"
	case ".hdf":
		return "application/x-hdf"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".tif", ".tiff":
		return "image/tiff"
	case ".json":
		return "application/json"
	case ".xml":
		return "application/xml"
	case ".csv":
		return "text/csv"
	case ".txt":
		return "text/plain"
	case ".zip":
		return "application/zip"
	case ".gz":
		return "application/gzip"
	case ".tar":
		return "application/tar"
	case ".pdf":
		return "application/pdf"
	}
	return ""
}

// escapePath escapes each segment of a bucket/key path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// writeRecord writes dir/name through a temporary file and a rename, so a
// reader never sees half a record.
func writeRecord(dir, name string, body []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".record-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// distributionPrefix is the URL path under DistributionURL that serves
// bucket: its prefix in the configuration's first distribution (the bucket
// map the distribution handler serves), or, for a configuration with no
// distribution block, the bucket's name (a distribution set up elsewhere
// that maps buckets by name). False when there is no distribution URL or
// the distribution does not serve the bucket: its files are then linked for
// direct S3 access.
func (e Env) distributionPrefix(bucket string) (string, bool) {
	switch {
	case e.DistributionURL == "":
		return "", false
	case e.Graph == nil || len(e.Graph.Distributions) == 0:
		return bucket, true
	}
	for _, b := range e.Graph.Distributions[0].Buckets {
		if b.BucketName == bucket {
			return b.Prefix, true
		}
	}
	return "", false
}
