package dynamostore

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Shards is how many partitions each listing index spreads its items over.
// The API lists granules in id order and runs in creation order, with and
// without a status, collection or pipeline filter. Those filters have few
// values (four granule statuses), so an index keyed by the filter alone
// would put a large share of all writes on one partition key, and a
// partition takes about 1,000 writes a second before DynamoDB throttles
// the index and, through it, the table. Each index key is therefore
// "<value>#<shard>" with the shard a hash of the item's id; a listing
// queries every shard in the sort order and merges the answers. Eight
// shards lift the ceiling eightfold for eight queries per page.
const Shards = 8

// Index and attribute names, shared by the table documents and the store
// so that the two cannot drift apart.
const (
	// Every table's partition key.
	attrID = "id"

	// Granules: the sort key of every granule index is the id itself, so a
	// listing comes back in id order and an id prefix is a begins_with key
	// condition on it.
	indexAll        = "all"
	indexStatus     = "by-status"
	indexCollection = "by-collection"
	indexPipeline   = "by-pipeline"
	indexPipeStatus = "by-pipeline-status"
	indexCollStatus = "by-collection-status"

	attrAll        = "k_all"        // "<shard>"
	attrStatus     = "k_status"     // "<status>#<shard>"
	attrCollection = "k_collection" // "<collection>#<shard>"
	attrPipeline   = "k_pipeline"   // "<pipeline>#<shard>" (runs)
	attrPipeStatus = "k_pipestatus" // "<pipeline>#<status>#<shard>" (runs)
	attrCollStatus = "k_collstatus" // "<collection>#<status>#<shard>" (granules)

	// The item's record (JSON, without the granule's document or the
	// run's input, which have attributes of their own), and its version,
	// which every write checks and increments.
	attrRec     = "rec"
	attrDoc     = "doc"
	attrInput   = "input"
	attrVersion = "v"
	attrCount   = "n"

	// Runs: the sort key of every run index is the creation time, fixed
	// width so that strings sort as times, then the run id for a stable
	// order between runs created in the same nanosecond.
	attrCreatedKey = "k_created"
)

// listAttrs are the attributes the listing indexes carry besides their
// keys: the record, what a page shows. The granule's document (its file
// list, up to hundreds of entries) and a run's input stay in the table
// only, so that a listing reads small items.
var listAttrs = []string{attrRec}

// TableNames are the names of the store's tables under prefix, in the
// order Tables returns them.
func TableNames(prefix string) []string {
	return []string{GranulesTable(prefix), RunsTable(prefix), CountersTable(prefix)}
}

// GranulesTable holds one item per granule, keyed by its id.
func GranulesTable(prefix string) string { return prefix + "-granules" }

// RunsTable holds one item per run (one Step Functions execution), keyed
// by the run id, with its steps and their attempts inside: a page of runs
// shows their steps, and one item per run keeps that page one query.
func RunsTable(prefix string) string { return prefix + "-runs" }

// CountersTable holds the counters the dashboard shows (runs by pipeline
// and status, granules by collection and status, files by source) and the
// write version the API polls, one small item each, so that reading them
// is one scan of a table with a few hundred items at most, whatever the
// number of granules. Pipelines themselves need no table: their shape is
// the compiled graph, which the API reads from the deployment.
func CountersTable(prefix string) string { return prefix + "-counters" }

// Tables returns the CreateTable documents of the store's tables under
// prefix, tagged with tags (sorted by key, so that the documents compile
// emits are stable). Tables bill per request: an ingest's load comes in
// bursts, which provisioned capacity would either throttle or pay for
// idle.
func Tables(prefix string, tags map[string]string) []*dynamodb.CreateTableInput {
	tt := sortedTags(tags)
	granules := &dynamodb.CreateTableInput{
		TableName:            aws.String(GranulesTable(prefix)),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attrDefs(attrID, attrAll, attrStatus, attrCollection, attrCollStatus),
		KeySchema:            hashKey(attrID),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(indexAll, attrAll, attrID, listAttrs),
			gsi(indexStatus, attrStatus, attrID, listAttrs),
			gsi(indexCollection, attrCollection, attrID, listAttrs),
			gsi(indexCollStatus, attrCollStatus, attrID, listAttrs),
		},
		Tags: tt,
	}
	runs := &dynamodb.CreateTableInput{
		TableName:   aws.String(RunsTable(prefix)),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: attrDefs(attrID, attrAll, attrStatus, attrPipeline, attrPipeStatus,
			attrCreatedKey),
		KeySchema: hashKey(attrID),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi(indexAll, attrAll, attrCreatedKey, listAttrs),
			gsi(indexStatus, attrStatus, attrCreatedKey, listAttrs),
			gsi(indexPipeline, attrPipeline, attrCreatedKey, listAttrs),
			gsi(indexPipeStatus, attrPipeStatus, attrCreatedKey, listAttrs),
		},
		Tags: tt,
	}
	counters := &dynamodb.CreateTableInput{
		TableName:            aws.String(CountersTable(prefix)),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attrDefs(attrID),
		KeySchema:            hashKey(attrID),
		Tags:                 tt,
	}
	return []*dynamodb.CreateTableInput{granules, runs, counters}
}

func sortedTags(tags map[string]string) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, len(keys))
	for i, k := range keys {
		out[i] = types.Tag{Key: aws.String(k), Value: aws.String(tags[k])}
	}
	return out
}

// attrDefs declares key attributes; every key here is a string.
func attrDefs(names ...string) []types.AttributeDefinition {
	out := make([]types.AttributeDefinition, len(names))
	for i, n := range names {
		out[i] = types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	return out
}

func hashKey(name string) []types.KeySchemaElement {
	return []types.KeySchemaElement{{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}}
}

func gsi(name, hash, rng string, include []string) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName: aws.String(name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{
			ProjectionType:   types.ProjectionTypeInclude,
			NonKeyAttributes: append([]string(nil), include...),
		},
	}
}
