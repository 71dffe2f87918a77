package state

import (
	"context"
	"fmt"
)

// RecordFileSeen records what a source's listing showed of a file (and,
// when set, the granule it went to and whether it is staged), replacing
// the previous record but keeping when the file was first seen. The poller
// records a file once it has dealt with it, so a file is fetched again only
// when it changes (SeenFile.Changed).
func (s *Store) RecordFileSeen(ctx context.Context, f SeenFile) error {
	if err := s.update(ctx, func(t *txn) error { return t.recordFile(f) }); err != nil {
		return fmt.Errorf("record file %q of source %q: %w", f.Key, f.Source, err)
	}
	return nil
}

func (t *txn) recordFile(f SeenFile) error {
	if err := checkName("source", f.Source); err != nil {
		return err
	}
	if err := checkName("file key", f.Key); err != nil {
		return err
	}
	k := key(f.Source, f.Key)
	var prev SeenFile
	seen, err := t.getJSON(bFiles, k, &prev)
	if err != nil {
		return err
	}
	f.FirstSeen = t.now
	if seen {
		f.FirstSeen = prev.FirstSeen
	}
	f.LastSeen = t.now
	f.ModTime = f.ModTime.UTC()
	if err := t.putJSON(bFiles, k, &f); err != nil {
		return err
	}
	if !seen {
		return t.count(1, "files", f.Source)
	}
	return nil
}

// FileSeen returns the record of a file of a source, and whether there is
// one.
func (s *Store) FileSeen(ctx context.Context, source, fileKey string) (SeenFile, bool, error) {
	var f SeenFile
	var ok bool
	err := s.view(ctx, func(t *txn) error {
		var err error
		ok, err = t.getJSON(bFiles, key(source, fileKey), &f)
		return err
	})
	if err != nil {
		return SeenFile{}, false, fmt.Errorf("look up file %q of source %q: %w", fileKey, source, err)
	}
	return f, ok, nil
}

// FilesSeen looks up many files of one source in one snapshot (a poller's
// whole listing), returning the records found by key.
func (s *Store) FilesSeen(ctx context.Context, source string, keys []string) (map[string]SeenFile, error) {
	out := make(map[string]SeenFile)
	err := s.view(ctx, func(t *txn) error {
		for _, k := range keys {
			var f SeenFile
			ok, err := t.getJSON(bFiles, key(source, k), &f)
			if err != nil {
				return err
			}
			if ok {
				out[k] = f
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up %d files of source %q: %w", len(keys), source, err)
	}
	return out, nil
}
