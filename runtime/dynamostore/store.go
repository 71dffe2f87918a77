package dynamostore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cumulus-toolchain/cumulus/runtime/engine"
	"github.com/cumulus-toolchain/cumulus/runtime/recorder"
)

// API is the part of the DynamoDB client the store uses (a
// *dynamodb.Client has it), so tests can wrap it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Store is the engine's state in the DynamoDB tables under one prefix
// (see Tables).
type Store struct {
	db                       API
	log                      *slog.Logger
	granules, runs, counters string
	maxConflicts             int
}

var (
	_ engine.Store     = (*Store)(nil)
	_ engine.Versioner = (*Store)(nil)
	_ recorder.Sink    = (*Store)(nil)
)

// New returns the store of the tables under prefix; log may be nil.
func New(db API, prefix string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, log: log, granules: GranulesTable(prefix), runs: RunsTable(prefix),
		counters: CountersTable(prefix), maxConflicts: 100}
}

// Page sizes, as the simulator's store has them.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// shard spreads ids over the listing indexes' partitions (see Shards).
func shard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return strconv.Itoa(int(h.Sum32() % Shards))
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

// createdKey is a run's sort key in the run indexes.
func createdKey(created time.Time, id string) string {
	return created.UTC().Format(recorder.TimeKeyLayout) + "#" + id
}

// runItem is a run's item: its record, input and index keys.
func runItem(r recorder.Run, version int64) (map[string]types.AttributeValue, error) {
	input := r.Input
	r.Input = nil
	rec, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	sh := shard(r.ID)
	item := map[string]types.AttributeValue{
		attrID: str(r.ID), attrVersion: num(version), attrRec: str(string(rec)),
		attrAll: str(sh), attrCreatedKey: str(createdKey(r.Created, r.ID)),
	}
	if input != nil {
		in, err := json.Marshal(input)
		if err != nil {
			return nil, err
		}
		item[attrInput] = str(string(in))
	}
	// An index key attribute must not be empty: a run not yet known by
	// status or pipeline is simply absent from those indexes.
	if r.Status != "" {
		item[attrStatus] = str(r.Status + "#" + sh)
	}
	if r.Pipeline != "" {
		item[attrPipeline] = str(r.Pipeline + "#" + sh)
		if r.Status != "" {
			item[attrPipeStatus] = str(r.Pipeline + "#" + r.Status + "#" + sh)
		}
	}
	return item, nil
}

func granuleItem(g recorder.Granule, version int64) (map[string]types.AttributeValue, error) {
	doc := g.Document
	g.Document = nil
	rec, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	sh := shard(g.ID)
	item := map[string]types.AttributeValue{
		attrID: str(g.ID), attrVersion: num(version), attrRec: str(string(rec)), attrAll: str(sh),
	}
	if doc != nil {
		d, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		item[attrDoc] = str(string(d))
	}
	if g.Status != "" {
		item[attrStatus] = str(g.Status + "#" + sh)
	}
	if g.Collection != "" {
		item[attrCollection] = str(g.Collection + "#" + sh)
		if g.Status != "" {
			item[attrCollStatus] = str(g.Collection + "#" + g.Status + "#" + sh)
		}
	}
	return item, nil
}

// decodeRun reads a run's record from an item (its input too when the
// item has it: a table read, not an index's).
func decodeRun(item map[string]types.AttributeValue) (recorder.Run, error) {
	var r recorder.Run
	if err := json.Unmarshal([]byte(getS(item, attrRec)), &r); err != nil {
		return r, fmt.Errorf("run item %q: %w", getS(item, attrID), err)
	}
	if in := getS(item, attrInput); in != "" {
		r.Input = new(engine.Document)
		if err := json.Unmarshal([]byte(in), r.Input); err != nil {
			return r, fmt.Errorf("run item %q: input: %w", r.ID, err)
		}
	}
	return r, nil
}

func decodeGranule(item map[string]types.AttributeValue) (recorder.Granule, error) {
	var g recorder.Granule
	if err := json.Unmarshal([]byte(getS(item, attrRec)), &g); err != nil {
		return g, fmt.Errorf("granule item %q: %w", getS(item, attrID), err)
	}
	if d := getS(item, attrDoc); d != "" {
		g.Document = new(engine.Document)
		if err := json.Unmarshal([]byte(d), g.Document); err != nil {
			return g, fmt.Errorf("granule item %q: document: %w", g.ID, err)
		}
	}
	return g, nil
}

// get reads an item with a strongly consistent read: a write merges into
// what it read, which must be the latest.
func (s *Store) get(ctx context.Context, table, id string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{attrID: str(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// ---- the write side ----

// UpdateRun implements recorder.Sink.
func (s *Store) UpdateRun(ctx context.Context, id string, fn func(*recorder.Run)) (recorder.Run, error) {
	var out recorder.Run
	err := s.update(ctx, s.runs, id, func(item map[string]types.AttributeValue) (any, error) {
		if item == nil {
			return recorder.Run{ID: id}, nil
		}
		return decodeRun(item)
	}, func(cur any) (any, error) {
		r := cur.(recorder.Run)
		fn(&r)
		r.ID = id
		out = r
		return r, nil
	}, func(v any, version int64) (map[string]types.AttributeValue, error) {
		return runItem(v.(recorder.Run), version)
	}, func(v any) map[string]int {
		r := v.(recorder.Run)
		if r.Status == "" {
			return nil
		}
		return map[string]int{counterID("run", r.Pipeline, r.Status): 1}
	})
	return out, err
}

// UpdateGranule implements recorder.Sink.
func (s *Store) UpdateGranule(ctx context.Context, id string, fn func(*recorder.Granule)) (recorder.Granule, error) {
	var out recorder.Granule
	err := s.update(ctx, s.granules, id, func(item map[string]types.AttributeValue) (any, error) {
		if item == nil {
			return recorder.Granule{ID: id}, nil
		}
		return decodeGranule(item)
	}, func(cur any) (any, error) {
		g := cur.(recorder.Granule)
		fn(&g)
		g.ID = id
		out = g
		return g, nil
	}, func(v any, version int64) (map[string]types.AttributeValue, error) {
		return granuleItem(v.(recorder.Granule), version)
	}, granuleCounters)
	return out, err
}

func granuleCounters(v any) map[string]int {
	g := v.(recorder.Granule)
	c := map[string]int{}
	if g.Status != "" {
		c[counterID("granule", g.Collection, g.Status)] = 1
	}
	for _, src := range g.Seen {
		c[counterID("files", src)]++
	}
	return c
}

// counterID names a counter: a JSON array, so that no name needs escaping.
func counterID(parts ...string) string {
	b, _ := json.Marshal(parts)
	return string(b)
}

// update is the store's one way to write an entity: read it, merge (a
// deep copy, so the merge cannot touch what was read), and write it only
// if it changed and only if its version is still the one read. A
// conflict, another writer's, starts over; the counters then move by the
// difference the write made.
func (s *Store) update(ctx context.Context, table, id string,
	decode func(map[string]types.AttributeValue) (any, error),
	merge func(any) (any, error),
	encode func(any, int64) (map[string]types.AttributeValue, error),
	counts func(any) map[string]int,
) error {
	if id == "" {
		return fmt.Errorf("an empty id: %w", engine.ErrInvalid)
	}
	for try := 0; ; try++ {
		item, err := s.get(ctx, table, id)
		if err != nil {
			return fmt.Errorf("reading %s %q: %w", table, id, err)
		}
		cur, err := decode(item)
		if err != nil {
			return err
		}
		before, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		copied, err := decode(item) // a second decoding is the deep copy
		if err != nil {
			return err
		}
		next, err := merge(copied)
		if err != nil {
			return err
		}
		after, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if bytes.Equal(before, after) {
			return nil // a duplicate or an older event: nothing to write
		}
		version := getN(item, attrVersion)
		put, err := encode(next, version+1)
		if err != nil {
			return err
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: put,
			ExpressionAttributeNames: map[string]string{"#id": attrID}}
		if item == nil {
			in.ConditionExpression = aws.String("attribute_not_exists(#id)")
		} else {
			in.ConditionExpression = aws.String("#v = :v")
			in.ExpressionAttributeNames["#v"] = attrVersion
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
			delete(in.ExpressionAttributeNames, "#id")
		}
		_, err = s.db.PutItem(ctx, in)
		var conflict *types.ConditionalCheckFailedException
		if errors.As(err, &conflict) {
			if try >= s.maxConflicts {
				return fmt.Errorf("writing %s %q: %d conflicting writes in a row: %w", table, id, try+1, err)
			}
			// Someone wrote it meanwhile: merge into theirs. A little
			// jitter keeps two writers from colliding again and again.
			wait := time.Duration(rand.IntN(1+min(try, 10))) * time.Millisecond
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("writing %s %q: %w", table, id, err)
		}
		delta := map[string]int{}
		for k, n := range counts(next) {
			delta[k] += n
		}
		if item != nil {
			for k, n := range counts(cur) {
				delta[k] -= n
			}
		}
		return s.count(ctx, id, delta)
	}
}

// count applies counter deltas and moves the write version. It runs after
// the conditional write that made the change, so a change is counted
// once; a crash between the two loses the count (the state is right, a
// recount from it would repair the counters).
func (s *Store) count(ctx context.Context, id string, delta map[string]int) error {
	keys := make([]string, 0, len(delta)+1)
	for k, n := range delta {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	delta[versionID(shard(id))] = 1
	keys = append(keys, versionID(shard(id)))
	for _, k := range keys {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.counters),
			Key:                       map[string]types.AttributeValue{attrID: str(k)},
			UpdateExpression:          aws.String("ADD #n :d"),
			ExpressionAttributeNames:  map[string]string{"#n": attrCount},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(int64(delta[k]))}})
		if err != nil {
			return fmt.Errorf("counting %s: %w", k, err)
		}
	}
	return nil
}

// versionID names one of the write version's shards: every write adds one
// to its entity's shard, and the version is their sum, so that no single
// item takes every write.
func versionID(sh string) string { return "version#" + sh }

// Import writes states as they are (a migration from another store, a
// test's fixture): each through the same conditional write as the
// recorder's, so counters follow, plus files, the files counters, which
// states imported without their sources cannot give.
func (s *Store) Import(ctx context.Context, runs []recorder.Run, granules []recorder.Granule, files map[string]int) error {
	for _, r := range runs {
		if _, err := s.UpdateRun(ctx, r.ID, func(cur *recorder.Run) { *cur = r }); err != nil {
			return err
		}
	}
	for _, g := range granules {
		if _, err := s.UpdateGranule(ctx, g.ID, func(cur *recorder.Granule) { *cur = g }); err != nil {
			return err
		}
	}
	delta := map[string]int{}
	for src, n := range files {
		delta[counterID("files", src)] = n
	}
	return s.count(ctx, "import", delta)
}

// ---- the read side ----

// Version implements engine.Versioner.
func (s *Store) Version(ctx context.Context) (uint64, error) {
	keys := make([]map[string]types.AttributeValue, Shards)
	for i := range Shards {
		keys[i] = map[string]types.AttributeValue{attrID: str(versionID(strconv.Itoa(i)))}
	}
	var sum uint64
	req := map[string]types.KeysAndAttributes{s.counters: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(req) > 0 {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return 0, fmt.Errorf("reading the store's version: %w", err)
		}
		for _, item := range out.Responses[s.counters] {
			sum += uint64(max(getN(item, attrCount), 0))
		}
		req = out.UnprocessedKeys
	}
	return sum, nil
}

// Counts implements engine.Store: one scan of the counters table, which
// holds a few items per pipeline, collection and source.
func (s *Store) Counts(ctx context.Context) (engine.Counts, error) {
	c := engine.Counts{Runs: map[string]map[string]int{}, Granules: map[string]map[string]int{}, Files: map[string]int{}}
	in := &dynamodb.ScanInput{TableName: aws.String(s.counters), ConsistentRead: aws.Bool(true)}
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return engine.Counts{}, fmt.Errorf("reading the counters: %w", err)
		}
		for _, item := range out.Items {
			var parts []string
			n := int(getN(item, attrCount))
			if json.Unmarshal([]byte(getS(item, attrID)), &parts) != nil || n <= 0 {
				continue // the version's shards, and counters back at zero
			}
			switch {
			case len(parts) == 3 && parts[0] == "run":
				add2(c.Runs, parts[1], parts[2], n)
			case len(parts) == 3 && parts[0] == "granule":
				add2(c.Granules, parts[1], parts[2], n)
			case len(parts) == 2 && parts[0] == "files":
				c.Files[parts[1]] += n
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return c, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func add2(m map[string]map[string]int, a, b string, n int) {
	if m[a] == nil {
		m[a] = map[string]int{}
	}
	m[a][b] += n
}

// Run implements engine.Store.
func (s *Store) Run(ctx context.Context, id string) (engine.Run, error) {
	item, err := s.get(ctx, s.runs, id)
	if err != nil {
		return engine.Run{}, fmt.Errorf("run %s: %w", id, err)
	}
	if item == nil {
		return engine.Run{}, fmt.Errorf("run %s: %w", id, engine.ErrNotFound)
	}
	r, err := decodeRun(item)
	if err != nil {
		return engine.Run{}, err
	}
	return r.API(), nil
}

// Granule implements engine.Store.
func (s *Store) Granule(ctx context.Context, id string) (engine.Granule, error) {
	item, err := s.get(ctx, s.granules, id)
	if err != nil {
		return engine.Granule{}, fmt.Errorf("granule %s: %w", id, err)
	}
	if item == nil {
		return engine.Granule{}, fmt.Errorf("granule %s: %w", id, engine.ErrNotFound)
	}
	g, err := decodeGranule(item)
	if err != nil {
		return engine.Granule{}, err
	}
	return g.API(), nil
}

// Cursors are the last sort key returned, base64url so they are opaque.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(c, what string) (string, error) {
	k, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(k) == 0 {
		return "", fmt.Errorf("cursor %q is not one a %s listing returned: %w", c, what, engine.ErrInvalid)
	}
	return string(k), nil
}

// Runs implements engine.Store: the index for the filters, the creation
// window as a key range, newest first unless OldestFirst.
func (s *Store) Runs(ctx context.Context, q engine.RunQuery) (engine.RunPage, error) {
	qs := shardQuery{table: s.runs, sortAttr: attrCreatedKey, forward: q.OldestFirst, limit: pageSize(q.Limit)}
	switch {
	case q.Pipeline != "" && q.Status != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexPipeStatus, attrPipeStatus, q.Pipeline+"#"+q.Status+"#"
	case q.Pipeline != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexPipeline, attrPipeline, q.Pipeline+"#"
	case q.Status != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexStatus, attrStatus, q.Status+"#"
	default:
		qs.index, qs.hashAttr = indexAll, attrAll
	}
	if !q.Since.IsZero() {
		qs.lo = q.Since.UTC().Format(recorder.TimeKeyLayout)
	}
	if !q.Until.IsZero() {
		qs.hi, qs.hiExcl = q.Until.UTC().Format(recorder.TimeKeyLayout), true
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "run")
		if err != nil {
			return engine.RunPage{}, err
		}
		if _, err := time.Parse(recorder.TimeKeyLayout, strings.SplitN(c, "#", 2)[0]); err != nil || !strings.Contains(c, "#") {
			return engine.RunPage{}, fmt.Errorf("cursor %q is not one a run listing returned: %w", q.Cursor, engine.ErrInvalid)
		}
		if q.OldestFirst {
			if c >= qs.lo {
				qs.lo, qs.loExcl = c, true
			}
		} else if qs.hi == "" || c <= qs.hi {
			qs.hi, qs.hiExcl = c, true
		}
	}
	items, more, err := s.queryShards(ctx, qs)
	if err != nil {
		return engine.RunPage{}, fmt.Errorf("list runs: %w", err)
	}
	page := engine.RunPage{Runs: make([]engine.Run, 0, len(items))}
	for _, it := range items {
		r, err := decodeRun(it)
		if err != nil {
			return engine.RunPage{}, err
		}
		page.Runs = append(page.Runs, r.API())
	}
	if more {
		page.Next = encodeCursor(getS(items[len(items)-1], attrCreatedKey))
	}
	return page, nil
}

// Granules implements engine.Store: the index for the filters, in id
// order, the id prefix as a begins_with key condition.
func (s *Store) Granules(ctx context.Context, q engine.GranuleQuery) (engine.GranulePage, error) {
	qs := shardQuery{table: s.granules, sortAttr: attrID, forward: true, limit: pageSize(q.Limit), prefix: q.IDPrefix}
	switch {
	case q.Collection != "" && q.Status != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexCollStatus, attrCollStatus, q.Collection+"#"+q.Status+"#"
	case q.Collection != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexCollection, attrCollection, q.Collection+"#"
	case q.Status != "":
		qs.index, qs.hashAttr, qs.hashPrefix = indexStatus, attrStatus, q.Status+"#"
	default:
		qs.index, qs.hashAttr = indexAll, attrAll
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, "granule")
		if err != nil {
			return engine.GranulePage{}, err
		}
		qs.lo, qs.loExcl = c, true
	}
	items, more, err := s.queryShards(ctx, qs)
	if err != nil {
		return engine.GranulePage{}, fmt.Errorf("list granules: %w", err)
	}
	page := engine.GranulePage{Granules: make([]engine.Granule, 0, len(items))}
	for _, it := range items {
		g, err := decodeGranule(it)
		if err != nil {
			return engine.GranulePage{}, err
		}
		page.Granules = append(page.Granules, g.API())
	}
	if more {
		page.Next = encodeCursor(getS(items[len(items)-1], attrID))
	}
	return page, nil
}

// shardQuery is one listing: a sort key range (and prefix) in every shard
// of one index.
type shardQuery struct {
	table, index, hashAttr, hashPrefix, sortAttr string
	// lo and hi bound the sort key ("" for none), exclusive when loExcl
	// or hiExcl; prefix (granule ids) is a begins_with.
	lo, hi         string
	loExcl, hiExcl bool
	prefix         string
	forward        bool
	limit          int
}

// queryShards reads up to limit+1 matching items from each shard, in
// parallel, and merges them: the page's limit items are among them, and
// one more anywhere means a next page.
func (s *Store) queryShards(ctx context.Context, q shardQuery) ([]map[string]types.AttributeValue, bool, error) {
	if q.prefix != "" && q.lo != "" && q.lo >= q.prefix && !strings.HasPrefix(q.lo, q.prefix) {
		return nil, false, nil // the cursor is past every id with the prefix
	}
	if q.lo != "" && q.hi != "" && q.lo > q.hi {
		return nil, false, nil
	}
	results := make([][]map[string]types.AttributeValue, Shards)
	errs := make([]error, Shards)
	var wg sync.WaitGroup
	for i := range Shards {
		wg.Go(func() { results[i], errs[i] = s.queryShard(ctx, q, q.hashPrefix+strconv.Itoa(i)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, false, err
	}
	all := slices.Concat(results...)
	slices.SortFunc(all, func(a, b map[string]types.AttributeValue) int {
		c := strings.Compare(getS(a, q.sortAttr), getS(b, q.sortAttr))
		if !q.forward {
			c = -c
		}
		return c
	})
	if len(all) > q.limit {
		return all[:q.limit], true, nil
	}
	return all, false, nil
}

func (s *Store) queryShard(ctx context.Context, q shardQuery, hash string) ([]map[string]types.AttributeValue, error) {
	// Only the names the condition uses: DynamoDB refuses unused ones.
	names := map[string]string{"#h": q.hashAttr}
	values := map[string]types.AttributeValue{":h": str(hash)}
	cond := "#h = :h"
	usePrefix := q.prefix != "" && (q.lo == "" || q.lo < q.prefix)
	switch {
	case usePrefix:
		cond += " AND begins_with(#s, :p)"
		values[":p"] = str(q.prefix)
	case q.lo != "" && q.hi != "":
		cond += " AND #s BETWEEN :lo AND :hi"
		values[":lo"], values[":hi"] = str(q.lo), str(q.hi)
	case q.lo != "":
		op := ">="
		if q.loExcl {
			op = ">"
		}
		cond += " AND #s " + op + " :lo"
		values[":lo"] = str(q.lo)
	case q.hi != "":
		op := "<="
		if q.hiExcl {
			op = "<"
		}
		cond += " AND #s " + op + " :hi"
		values[":hi"] = str(q.hi)
	}
	if strings.Contains(cond, "#s") {
		names["#s"] = q.sortAttr
	}
	in := &dynamodb.QueryInput{TableName: aws.String(q.table), IndexName: aws.String(q.index),
		KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names,
		ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(q.forward),
		// Two more than needed: a boundary item may be skipped.
		Limit: aws.Int32(int32(q.limit + 3))}
	var got []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("querying %s index %s: %w", q.table, q.index, err)
		}
		for _, it := range out.Items {
			k := getS(it, q.sortAttr)
			switch {
			case q.loExcl && k == q.lo, q.hiExcl && k == q.hi:
				continue
			case q.prefix != "" && !strings.HasPrefix(k, q.prefix):
				return got, nil // ids are in order: none further has it
			}
			got = append(got, it)
			if len(got) > q.limit {
				return got, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return got, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
