package s3local

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cumulus-toolchain/cumulus/simulator/internal/groupcommit"
)

// Layout of the folder a store owns:
//
//	index.db   bbolt: buckets, object records, multipart uploads
//	blobs/xx/  object and part data, one file per blob, named by a random id
//	tmp/       data being received; emptied on open
//
// A blob is written to tmp/, synced, renamed into blobs/ and only then
// referenced from the index, so the index never names a missing or partial
// file. A crash can leave a blob nobody references; open removes those.
const (
	indexFile = "index.db"
	blobsDir  = "blobs"
	tmpDir    = "tmp"
)

// Top-level bbolt buckets. S3 bucket names never contain '/', so the
// object sub-buckets (one per S3 bucket, under objectsKey) cannot collide.
var (
	formatKey  = []byte("format")  // "version" -> indexFormat
	bucketsKey = []byte("buckets") // S3 bucket name -> bucketRecord
	objectsKey = []byte("objects") // S3 bucket name -> sub-bucket: object key -> objectRecord
	uploadsKey = []byte("uploads") // upload id -> uploadRecord
)

type bucketRecord struct {
	Created time.Time `json:"created"`
}

// segment is one blob of an object's data. A completed multipart upload
// keeps its parts' blobs as segments instead of concatenating them, so
// completing one costs no pass over the data.
type segment struct {
	Blob string `json:"blob"`
	Size int64  `json:"size"`
}

type objectRecord struct {
	Size int64 `json:"size"`
	// ETag is what S3 answers: the hex MD5 of the data or, for an object
	// made by a multipart upload, the MD5 of its parts' MD5s, "-" and the
	// number of parts. Unquoted.
	ETag     string            `json:"etag"`
	Modified time.Time         `json:"modified"`
	Meta     map[string]string `json:"meta,omitempty"`
	Segments []segment         `json:"segments"`
}

type partRecord struct {
	Blob     string    `json:"blob"`
	Size     int64     `json:"size"`
	MD5      string    `json:"md5"`
	Modified time.Time `json:"modified"`
}

type uploadRecord struct {
	Bucket    string             `json:"bucket"`
	Key       string             `json:"key"`
	Meta      map[string]string  `json:"meta,omitempty"`
	Initiated time.Time          `json:"initiated"`
	Parts     map[int]partRecord `json:"parts,omitempty"`
}

// store is the gofakes3 backend: object data in files, their index in
// bbolt. It implements gofakes3.Backend and gofakes3.MultipartBackend.
type store struct {
	db  *bolt.DB
	dir string
	log *slog.Logger
	now func() time.Time

	// gc orders blob removal after readers: a reader holds it shared from
	// looking a record up until its files are open (an open file stays
	// readable after removal on the systems we run on); removal holds it
	// exclusively.
	gc sync.RWMutex

	// bufs recycles copy buffers: io.Copy's 32 KiB default costs a
	// noticeable share of throughput on large objects.
	bufs sync.Pool

	// The index writes' group commit (see update in commit.go).
	commits *groupcommit.Batcher[*bolt.Tx]
}

var (
	_ gofakes3.Backend          = (*store)(nil)
	_ gofakes3.MultipartBackend = (*store)(nil)
)

const copyBufferSize = 1 << 20

// openStore opens (creating if needed) the store in dir. It waits for the
// index lock at most until ctx is done or lockWait has passed, because a
// second simulator on the same folder would otherwise block for ever.
func openStore(ctx context.Context, dir string, log *slog.Logger) (*store, error) {
	for _, d := range []string{dir, filepath.Join(dir, blobsDir), filepath.Join(dir, tmpDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("s3local: create %s: %w", d, err)
		}
	}
	wait := lockWait
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), time.Millisecond)
	}
	path := filepath.Join(dir, indexFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("s3local: %s is in use by another process (another simulation on the same folder?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("s3local: open index %s: %w", path, err)
	}
	s := &store{db: db, dir: dir, log: log, now: time.Now, commits: newBatcher(db)}
	s.bufs.New = func() any { b := make([]byte, copyBufferSize); return &b }
	err = db.Update(func(tx *bolt.Tx) error {
		for _, k := range [][]byte{formatKey, bucketsKey, objectsKey, uploadsKey} {
			if _, err := tx.CreateBucketIfNotExists(k); err != nil {
				return err
			}
		}
		f := tx.Bucket(formatKey)
		switch v := f.Get([]byte("version")); {
		case v == nil:
			return f.Put([]byte("version"), []byte(indexFormat))
		case string(v) != indexFormat:
			return fmt.Errorf("its index has format %q; this cumulus reads format %s (was the folder written by another version?)", v, indexFormat)
		}
		return nil
	})
	if err == nil {
		err = s.sweep()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("s3local: open %s: %w", dir, err)
	}
	return s, nil
}

// indexFormat is the version of the index's layout, checked on open so
// that a later layout is not misread (and an upgrade knows what it reads).
const indexFormat = "1"

// lockWait bounds how long openStore waits for another process's lock.
const lockWait = 3 * time.Second

func (s *store) close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("s3local: close index: %w", err)
	}
	return nil
}

// sweep empties tmp/ and removes blobs the index does not reference: what
// a crash between writing a blob and indexing it (or between unindexing
// and removing it) leaves behind.
func (s *store) sweep() error {
	tmp := filepath.Join(s.dir, tmpDir)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(tmp, e.Name())); err != nil {
			return err
		}
	}
	live := map[string]bool{}
	err = s.db.View(func(tx *bolt.Tx) error {
		objs := tx.Bucket(objectsKey)
		err := objs.ForEach(func(name, _ []byte) error {
			return objs.Bucket(name).ForEach(func(_, v []byte) error {
				var rec objectRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				for _, sg := range rec.Segments {
					live[sg.Blob] = true
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(uploadsKey).ForEach(func(_, v []byte) error {
			var up uploadRecord
			if err := json.Unmarshal(v, &up); err != nil {
				return err
			}
			for _, p := range up.Parts {
				live[p.Blob] = true
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	removed := 0
	err = filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !live[d.Name()] {
			removed++
			return os.Remove(path)
		}
		return nil
	})
	if removed > 0 {
		s.log.Info("s3local: removed unreferenced data left by an earlier run", "files", removed)
	}
	return err
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// blobPath fans blobs out over 256 folders so none grows huge.
func (s *store) blobPath(id string) string {
	return filepath.Join(s.dir, blobsDir, id[:2], id)
}

// writeBlob stores r's data (which must be exactly size bytes, size < 0
// meaning unknown) as a new blob and returns its id and MD5.
func (s *store) writeBlob(r io.Reader, size int64) (id string, n int64, sum []byte, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "blob-*")
	if err != nil {
		return "", 0, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := md5.New()
	bp := s.bufs.Get().(*[]byte)
	n, err = io.CopyBuffer(io.MultiWriter(f, h), r, *bp)
	s.bufs.Put(bp)
	if err != nil {
		if errors.Is(err, errChecksumMismatch) {
			return "", 0, nil, gofakes3.ErrorMessage(gofakes3.ErrBadDigest, err.Error())
		}
		return "", 0, nil, fmt.Errorf("s3local: receive data: %w", err)
	}
	if size >= 0 && n != size {
		return "", 0, nil, gofakes3.ErrIncompleteBody
	}
	// Synced before it is indexed: an object the index lists must survive
	// a power cut, not only a killed process.
	if err = f.Sync(); err != nil {
		return "", 0, nil, fmt.Errorf("s3local: sync data: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", 0, nil, fmt.Errorf("s3local: close data: %w", err)
	}
	id = newID()
	dst := s.blobPath(id)
	if err = os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", 0, nil, fmt.Errorf("s3local: store data: %w", err)
	}
	if err = os.Rename(f.Name(), dst); err != nil {
		return "", 0, nil, fmt.Errorf("s3local: store data: %w", err)
	}
	return id, n, h.Sum(nil), nil
}

// removeBlobs deletes blobs no longer referenced. Failures are logged, not
// returned: the index is already consistent and sweep retries at next open.
func (s *store) removeBlobs(ids ...string) {
	if len(ids) == 0 {
		return
	}
	s.gc.Lock()
	defer s.gc.Unlock()
	for _, id := range ids {
		if err := os.Remove(s.blobPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("s3local: remove unreferenced data", "blob", id, "err", err)
		}
	}
}

func segmentBlobs(segs []segment) []string {
	ids := make([]string, len(segs))
	for i, sg := range segs {
		ids[i] = sg.Blob
	}
	return ids
}

// keepMeta keeps what S3 stores with an object: the user metadata and the
// representation headers. gofakes3 hands backends every X-Amz-* request
// header; storing those would replay request details (signatures, dates,
// the request's checksum) on every GET, and a stale x-amz-checksum-* header
// makes SDKs reject a correct response.
func keepMeta(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		switch {
		case strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Amz-Meta-"):
			out[http.CanonicalHeaderKey(k)] = v
		case k == "Content-Type", k == "Content-Disposition", k == "Cache-Control", k == "Content-Language", k == "Expires":
			out[k] = v
		case k == "Content-Encoding":
			// aws-chunked describes the request's framing, not the object.
			var kept []string
			for _, c := range strings.Split(v, ",") {
				if c = strings.TrimSpace(c); c != "" && c != "aws-chunked" {
					kept = append(kept, c)
				}
			}
			if len(kept) > 0 {
				out[k] = strings.Join(kept, ",")
			}
		}
	}
	return out
}

// responseMeta is the header set gofakes3 writes for an object.
func (rec *objectRecord) responseMeta() map[string]string {
	out := make(map[string]string, len(rec.Meta)+2)
	for k, v := range rec.Meta {
		out[k] = v
	}
	if out["Content-Type"] == "" {
		out["Content-Type"] = "binary/octet-stream" // what S3 answers for an object stored without one
	}
	out["Last-Modified"] = rec.Modified.UTC().Format(http.TimeFormat)
	out[etagHeader] = `"` + rec.ETag + `"`
	return out
}

// hash is the ETag as gofakes3 wants it: bytes it writes out in hex. The
// "-N" of a multipart ETag does not fit; fixETag restores it.
func (rec *objectRecord) hash() []byte {
	h, _, _ := strings.Cut(rec.ETag, "-")
	b, _ := hex.DecodeString(h)
	return b
}

// checkPutConditions applies a conditional PUT's If-Match and If-None-Match
// to the object there (gofakes3.CheckPutConditions compares hex MD5s, so
// it would never match a multipart object's ETag).
func checkPutConditions(c *gofakes3.PutConditions, exists bool, etag string) error {
	if c == nil {
		return nil
	}
	if c.IfNoneMatch != nil && *c.IfNoneMatch == "*" && exists {
		return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "The object already exists")
	}
	if c.IfMatch != nil {
		if !exists {
			return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "The object does not exist")
		}
		if strings.Trim(*c.IfMatch, `"`) != etag {
			return gofakes3.ErrorMessage(gofakes3.ErrPreconditionFailed, "The ETag does not match")
		}
	}
	return nil
}

func getJSON(b *bolt.Bucket, key string, into any) (bool, error) {
	v := b.Get([]byte(key))
	if v == nil {
		return false, nil
	}
	if err := json.Unmarshal(v, into); err != nil {
		return true, fmt.Errorf("s3local: corrupt index entry %q: %w", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// objects returns the object sub-bucket of an S3 bucket, or NoSuchBucket.
func objects(tx *bolt.Tx, bucket string) (*bolt.Bucket, error) {
	b := tx.Bucket(objectsKey).Bucket([]byte(bucket))
	if b == nil {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	return b, nil
}

// --- buckets ---

func (s *store) ListBuckets() ([]gofakes3.BucketInfo, error) {
	var out []gofakes3.BucketInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketsKey).ForEach(func(k, v []byte) error {
			var rec bucketRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, gofakes3.BucketInfo{Name: string(k), CreationDate: gofakes3.NewContentTime(rec.Created)})
			return nil
		})
	})
	return out, err
}

func (s *store) CreateBucket(name string) error {
	return s.update(func(tx *bolt.Tx) error {
		buckets := tx.Bucket(bucketsKey)
		if buckets.Get([]byte(name)) != nil {
			return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, name)
		}
		if err := putJSON(buckets, name, bucketRecord{Created: s.now().UTC()}); err != nil {
			return err
		}
		_, err := tx.Bucket(objectsKey).CreateBucket([]byte(name))
		return err
	})
}

func (s *store) BucketExists(name string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketsKey).Get([]byte(name)) != nil
		return nil
	})
	return ok, err
}

func (s *store) DeleteBucket(name string) error {
	return s.deleteBucket(name, false)
}

func (s *store) ForceDeleteBucket(name string) error {
	return s.deleteBucket(name, true)
}

func (s *store) deleteBucket(name string, force bool) error {
	var garbage []string
	err := s.update(func(tx *bolt.Tx) error {
		garbage = nil // from scratch: update may run this again
		objs, err := objects(tx, name)
		if err != nil {
			return err
		}
		if k, _ := objs.Cursor().First(); k != nil && !force {
			return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
		}
		err = objs.ForEach(func(_, v []byte) error {
			var rec objectRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			garbage = append(garbage, segmentBlobs(rec.Segments)...)
			return nil
		})
		if err != nil {
			return err
		}
		// In-progress uploads go with their bucket.
		ups := tx.Bucket(uploadsKey)
		var dead [][]byte
		err = ups.ForEach(func(k, v []byte) error {
			var up uploadRecord
			if err := json.Unmarshal(v, &up); err != nil {
				return err
			}
			if up.Bucket == name {
				dead = append(dead, bytes.Clone(k))
				for _, p := range up.Parts {
					garbage = append(garbage, p.Blob)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := ups.Delete(k); err != nil {
				return err
			}
		}
		if err := tx.Bucket(objectsKey).DeleteBucket([]byte(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketsKey).Delete([]byte(name))
	})
	if err != nil {
		return err
	}
	s.removeBlobs(garbage...)
	return nil
}

// ListBucket lists keys in byte order, rolling keys up into common
// prefixes when a delimiter is given, a page of MaxKeys at a time.
func (s *store) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	list := gofakes3.NewObjectList()
	err := s.db.View(func(tx *bolt.Tx) error {
		objs, err := objects(tx, name)
		if err != nil {
			return err
		}
		c := objs.Cursor()
		var k, v []byte
		switch {
		case page.HasMarker && (!prefix.HasPrefix || page.Marker >= prefix.Prefix):
			k, v = c.Seek([]byte(page.Marker))
			if string(k) == page.Marker {
				k, v = c.Next()
			}
		case prefix.HasPrefix:
			k, v = c.Seek([]byte(prefix.Prefix))
		default:
			k, v = c.First()
		}
		var (
			match       gofakes3.PrefixMatch
			count       int64
			lastKey     string
			lastGrouped string
		)
		for ; k != nil; k, v = c.Next() {
			key := string(k)
			if prefix.HasPrefix && !strings.HasPrefix(key, prefix.Prefix) {
				break // keys are sorted: nothing further can match
			}
			if !prefix.Match(key, &match) {
				continue
			}
			if match.CommonPrefix {
				if match.MatchedPart == lastGrouped {
					lastKey = key
					continue
				}
				list.AddPrefix(match.MatchedPart)
				lastGrouped = match.MatchedPart
			} else {
				var rec objectRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return fmt.Errorf("s3local: corrupt index entry %q: %w", key, err)
				}
				list.Add(&gofakes3.Content{
					Key:          key,
					ETag:         `"` + rec.ETag + `"`,
					Size:         rec.Size,
					LastModified: gofakes3.NewContentTime(rec.Modified),
					StorageClass: gofakes3.StorageStandard,
				})
			}
			lastKey = key
			count++
			if page.MaxKeys > 0 && count >= page.MaxKeys {
				// The marker must be the raw last key, past every key of a
				// common prefix just emitted, or the next page would emit
				// that prefix again.
				for nk, _ := c.Next(); nk != nil; nk, _ = c.Next() {
					key := string(nk)
					if prefix.HasPrefix && !strings.HasPrefix(key, prefix.Prefix) {
						break
					}
					var m gofakes3.PrefixMatch
					if !prefix.Match(key, &m) {
						continue
					}
					if m.CommonPrefix && m.MatchedPart == lastGrouped {
						lastKey = key
						continue
					}
					list.IsTruncated = true
					break
				}
				if list.IsTruncated {
					list.NextMarker = lastKey
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// --- objects ---

func (s *store) lookup(bucket, key string) (objectRecord, error) {
	var rec objectRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		objs, err := objects(tx, bucket)
		if err != nil {
			return err
		}
		ok, err := getJSON(objs, key, &rec)
		if err == nil && !ok {
			err = gofakes3.KeyNotFound(key)
		}
		return err
	})
	return rec, err
}

func (s *store) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	rec, err := s.lookup(bucket, key)
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{
		Name:     key,
		Metadata: rec.responseMeta(),
		Size:     rec.Size,
		Contents: emptyBody{},
		Hash:     rec.hash(),
	}, nil
}

func (s *store) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	s.gc.RLock()
	rec, err := s.lookup(bucket, key)
	if err != nil {
		s.gc.RUnlock()
		return nil, err
	}
	rng, err := rangeRequest.Range(rec.Size)
	if err != nil {
		s.gc.RUnlock()
		return nil, err
	}
	start, length := int64(0), rec.Size
	if rng != nil {
		start, length = rng.Start, rng.Length
	}
	body, err := s.openSegments(rec.Segments, start, length)
	s.gc.RUnlock()
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{
		Name:     key,
		Metadata: rec.responseMeta(),
		Size:     rec.Size,
		Contents: body,
		Range:    rng,
		Hash:     rec.hash(),
	}, nil
}

// openSegments opens the blobs holding bytes [start, start+length) of an
// object as one reader. The caller holds s.gc shared.
func (s *store) openSegments(segs []segment, start, length int64) (io.ReadCloser, error) {
	body := &segmentReader{}
	var readers []io.Reader
	for _, sg := range segs {
		if length <= 0 {
			break
		}
		if start >= sg.Size {
			start -= sg.Size
			continue
		}
		f, err := os.Open(s.blobPath(sg.Blob))
		if err != nil {
			body.Close()
			return nil, fmt.Errorf("s3local: object data missing: %w", err)
		}
		body.files = append(body.files, f)
		n := min(sg.Size-start, length)
		readers = append(readers, io.NewSectionReader(f, start, n))
		length -= n
		start = 0
	}
	body.Reader = io.MultiReader(readers...)
	return body, nil
}

type segmentReader struct {
	io.Reader
	files []*os.File
}

func (r *segmentReader) Close() error {
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

func (s *store) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	var result gofakes3.PutObjectResult
	if ok, err := s.BucketExists(bucket); err != nil || !ok {
		if err == nil {
			err = gofakes3.BucketNotFound(bucket)
		}
		return result, err
	}
	if _, err := s.storeObject(bucket, key, input, size, meta, conditions); err != nil {
		return result, err
	}
	return result, nil
}

// storeObject writes r as one blob and records it as bucket/key; the blob
// is removed again when the record cannot be written.
func (s *store) storeObject(bucket, key string, r io.Reader, size int64, meta map[string]string, conditions *gofakes3.PutConditions) (objectRecord, error) {
	id, n, sum, err := s.writeBlob(r, size)
	if err != nil {
		return objectRecord{}, err
	}
	rec := objectRecord{
		Size:     n,
		ETag:     hex.EncodeToString(sum),
		Modified: s.now().UTC(),
		Meta:     keepMeta(meta),
		Segments: []segment{{Blob: id, Size: n}},
	}
	if err := s.putRecord(bucket, key, rec, conditions); err != nil {
		s.removeBlobs(id)
		return objectRecord{}, err
	}
	return rec, nil
}

// putRecord indexes rec under key, replacing (and later removing the data
// of) any object already there.
func (s *store) putRecord(bucket, key string, rec objectRecord, conditions *gofakes3.PutConditions) error {
	var garbage []string
	err := s.update(func(tx *bolt.Tx) error {
		garbage = nil // from scratch: update may run this again
		objs, err := objects(tx, bucket)
		if err != nil {
			return err
		}
		var old objectRecord
		exists, err := getJSON(objs, key, &old)
		if err != nil {
			return err
		}
		if err := checkPutConditions(conditions, exists, old.ETag); err != nil {
			return err
		}
		if exists {
			garbage = segmentBlobs(old.Segments)
		}
		return putJSON(objs, key, rec)
	})
	if err != nil {
		return err
	}
	s.removeBlobs(garbage...)
	return nil
}

func (s *store) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	var result gofakes3.CopyObjectResult
	src, err := s.GetObject(srcBucket, srcKey, nil)
	if err != nil {
		return result, err
	}
	defer src.Contents.Close()
	if ok, err := s.BucketExists(dstBucket); err != nil || !ok {
		if err == nil {
			err = gofakes3.BucketNotFound(dstBucket)
		}
		return result, err
	}
	// A copy gets blobs of its own rather than sharing the source's, so
	// deleting either never needs reference counting.
	rec, err := s.storeObject(dstBucket, dstKey, src.Contents, src.Size, meta, nil)
	if err != nil {
		return result, err
	}
	return gofakes3.CopyObjectResult{ETag: `"` + rec.ETag + `"`, LastModified: gofakes3.NewContentTime(rec.Modified)}, nil
}

func (s *store) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	_, err := s.DeleteMulti(bucket, key)
	return gofakes3.ObjectDeleteResult{}, err
}

func (s *store) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var result gofakes3.MultiDeleteResult
	var garbage []string
	err := s.update(func(tx *bolt.Tx) error {
		objs, err := objects(tx, bucket)
		if err != nil {
			return err
		}
		result = gofakes3.MultiDeleteResult{}
		garbage = nil
		for _, key := range keys {
			var rec objectRecord
			exists, err := getJSON(objs, key, &rec)
			if err != nil {
				return err
			}
			if exists {
				if err := objs.Delete([]byte(key)); err != nil {
					return err
				}
				garbage = append(garbage, segmentBlobs(rec.Segments)...)
			}
			// Deleting a missing key succeeds in S3.
			result.Deleted = append(result.Deleted, gofakes3.ObjectID{Key: key})
		}
		return nil
	})
	if err != nil {
		return gofakes3.MultiDeleteResult{}, err
	}
	s.removeBlobs(garbage...)
	return result, nil
}

// --- multipart uploads ---

func (s *store) CreateMultipartUpload(bucket, key string, meta map[string]string) (gofakes3.UploadID, error) {
	id := newID()
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := objects(tx, bucket); err != nil {
			return err
		}
		return putJSON(tx.Bucket(uploadsKey), id, uploadRecord{
			Bucket:    bucket,
			Key:       key,
			Meta:      keepMeta(meta),
			Initiated: s.now().UTC(),
		})
	})
	if err != nil {
		return "", err
	}
	return gofakes3.UploadID(id), nil
}

// upload reads an upload record, checking it belongs to bucket and key.
func upload(tx *bolt.Tx, bucket, key string, id gofakes3.UploadID) (uploadRecord, error) {
	var up uploadRecord
	ok, err := getJSON(tx.Bucket(uploadsKey), string(id), &up)
	if err != nil {
		return up, err
	}
	if !ok || up.Bucket != bucket || up.Key != key {
		return up, gofakes3.ErrNoSuchUpload
	}
	return up, nil
}

func (s *store) UploadPart(bucket, key string, id gofakes3.UploadID, partNumber int, contentLength int64, input io.Reader) (string, error) {
	if partNumber < 1 || partNumber > gofakes3.MaxUploadPartNumber {
		return "", gofakes3.ErrInvalidPart
	}
	// Refuse before receiving data for an upload that does not exist.
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := upload(tx, bucket, key, id)
		return err
	})
	if err != nil {
		return "", err
	}
	blob, n, sum, err := s.writeBlob(input, contentLength)
	if err != nil {
		return "", err
	}
	part := partRecord{Blob: blob, Size: n, MD5: hex.EncodeToString(sum), Modified: s.now().UTC()}
	var garbage []string
	err = s.update(func(tx *bolt.Tx) error {
		garbage = nil // from scratch: update may run this again
		up, err := upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		if up.Parts == nil {
			up.Parts = map[int]partRecord{}
		}
		if old, ok := up.Parts[partNumber]; ok {
			garbage = []string{old.Blob} // a part uploaded again replaces the earlier one
		}
		up.Parts[partNumber] = part
		return putJSON(tx.Bucket(uploadsKey), string(id), up)
	})
	if err != nil {
		s.removeBlobs(blob)
		return "", err
	}
	s.removeBlobs(garbage...)
	return `"` + part.MD5 + `"`, nil
}

func (s *store) AbortMultipartUpload(bucket, key string, id gofakes3.UploadID) error {
	var garbage []string
	err := s.update(func(tx *bolt.Tx) error {
		garbage = nil // from scratch: update may run this again
		up, err := upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		for _, p := range up.Parts {
			garbage = append(garbage, p.Blob)
		}
		return tx.Bucket(uploadsKey).Delete([]byte(id))
	})
	if err != nil {
		return err
	}
	s.removeBlobs(garbage...)
	return nil
}

// CompleteMultipartUpload makes the listed parts the object's segments,
// without reading them. Its ETag is S3's for such an object: the MD5 of
// the parts' MD5s, "-" and the number of parts.
func (s *store) CompleteMultipartUpload(bucket, key string, id gofakes3.UploadID, input *gofakes3.CompleteMultipartUploadRequest) (gofakes3.VersionID, string, error) {
	if len(input.Parts) == 0 {
		return "", "", gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "the upload lists no parts")
	}
	var (
		rec     objectRecord
		garbage []string
	)
	err := s.update(func(tx *bolt.Tx) error {
		garbage = nil // from scratch: update may run this again
		objs, err := objects(tx, bucket)
		if err != nil {
			return err
		}
		up, err := upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		segs := make([]segment, 0, len(input.Parts))
		used := map[string]bool{}
		sums := md5.New()
		var size int64
		for i, p := range input.Parts {
			if i > 0 && p.PartNumber <= input.Parts[i-1].PartNumber {
				return gofakes3.ErrInvalidPartOrder
			}
			part, ok := up.Parts[p.PartNumber]
			if !ok || strings.Trim(p.ETag, `"`) != part.MD5 {
				return gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "part %d was not uploaded or its ETag does not match", p.PartNumber)
			}
			sum, err := hex.DecodeString(part.MD5)
			if err != nil {
				return fmt.Errorf("s3local: corrupt part record: %w", err)
			}
			sums.Write(sum)
			segs = append(segs, segment{Blob: part.Blob, Size: part.Size})
			used[part.Blob] = true
			size += part.Size
		}
		rec = objectRecord{
			Size:     size,
			ETag:     fmt.Sprintf("%x-%d", sums.Sum(nil), len(segs)),
			Modified: s.now().UTC(),
			Meta:     up.Meta,
			Segments: segs,
		}
		for _, p := range up.Parts {
			if !used[p.Blob] {
				garbage = append(garbage, p.Blob) // uploaded but not listed: dropped, as in S3
			}
		}
		var old objectRecord
		exists, err := getJSON(objs, key, &old)
		if err != nil {
			return err
		}
		if exists {
			garbage = append(garbage, segmentBlobs(old.Segments)...)
		}
		if err := tx.Bucket(uploadsKey).Delete([]byte(id)); err != nil {
			return err
		}
		return putJSON(objs, key, rec)
	})
	if err != nil {
		return "", "", err
	}
	s.removeBlobs(garbage...)
	return "", `"` + rec.ETag + `"`, nil
}

func (s *store) ListParts(bucket, key string, id gofakes3.UploadID, marker int, limit int64) (*gofakes3.ListMultipartUploadPartsResult, error) {
	var up uploadRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		up, err = upload(tx, bucket, key, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	nums := make([]int, 0, len(up.Parts))
	for n := range up.Parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	res := &gofakes3.ListMultipartUploadPartsResult{
		Bucket:           bucket,
		Key:              key,
		UploadID:         id,
		MaxParts:         limit,
		PartNumberMarker: marker,
		StorageClass:     gofakes3.StorageStandard,
	}
	for _, n := range nums {
		if limit > 0 && int64(len(res.Parts)) >= limit {
			res.IsTruncated = true
			break
		}
		p := up.Parts[n]
		res.Parts = append(res.Parts, gofakes3.ListMultipartUploadPartItem{
			PartNumber:   n,
			ETag:         `"` + p.MD5 + `"`,
			Size:         p.Size,
			LastModified: gofakes3.NewContentTime(p.Modified),
		})
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (s *store) ListMultipartUploads(bucket string, marker *gofakes3.UploadListMarker, prefix gofakes3.Prefix, limit int64) (*gofakes3.ListMultipartUploadsResult, error) {
	type item struct {
		id string
		up uploadRecord
	}
	var items []item
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := objects(tx, bucket); err != nil {
			return err
		}
		return tx.Bucket(uploadsKey).ForEach(func(k, v []byte) error {
			var up uploadRecord
			if err := json.Unmarshal(v, &up); err != nil {
				return err
			}
			if up.Bucket == bucket {
				items = append(items, item{string(k), up})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// S3 lists by key, then by initiation time within a key.
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.up.Key != b.up.Key {
			return a.up.Key < b.up.Key
		}
		if !a.up.Initiated.Equal(b.up.Initiated) {
			return a.up.Initiated.Before(b.up.Initiated)
		}
		return a.id < b.id
	})
	res := &gofakes3.ListMultipartUploadsResult{
		Bucket:     bucket,
		Delimiter:  prefix.Delimiter,
		Prefix:     prefix.Prefix,
		MaxUploads: limit,
	}
	if marker != nil {
		res.KeyMarker = marker.Object
		res.UploadIDMarker = marker.UploadID
	}
	seen := map[string]bool{}
	passedMarker := marker == nil
	var (
		match gofakes3.PrefixMatch
		last  *item
	)
	for i := range items {
		it := &items[i]
		if !passedMarker {
			switch {
			case it.up.Key < marker.Object:
				continue
			case it.up.Key == marker.Object:
				if marker.UploadID != "" && it.id == string(marker.UploadID) {
					passedMarker = true
				}
				continue
			}
			passedMarker = true
		}
		if !prefix.Match(it.up.Key, &match) || (match.CommonPrefix && seen[match.MatchedPart]) {
			continue
		}
		if limit > 0 && int64(len(res.Uploads)+len(res.CommonPrefixes)) >= limit {
			res.IsTruncated = true
			res.NextKeyMarker, res.NextUploadIDMarker = last.up.Key, gofakes3.UploadID(last.id)
			break
		}
		last = it
		if match.CommonPrefix {
			seen[match.MatchedPart] = true
			res.CommonPrefixes = append(res.CommonPrefixes, match.AsCommonPrefix())
			continue
		}
		res.Uploads = append(res.Uploads, gofakes3.ListMultipartUploadItem{
			Key:          it.up.Key,
			UploadID:     gofakes3.UploadID(it.id),
			StorageClass: gofakes3.StorageStandard,
			Initiated:    gofakes3.NewContentTime(it.up.Initiated),
		})
	}
	return res, nil
}
