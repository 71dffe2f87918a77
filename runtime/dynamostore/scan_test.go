package dynamostore

import (
	"context"
	"iter"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// dynamodbScan reads a whole table (tests only).
type dynamodbScan struct{ table string }

func (d *dynamodbScan) all(t testing.TB, s *Store) iter.Seq[map[string]types.AttributeValue] {
	return func(yield func(map[string]types.AttributeValue) bool) {
		in := &dynamodb.ScanInput{TableName: aws.String(d.table), ConsistentRead: aws.Bool(true)}
		for {
			out, err := s.db.Scan(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				if !yield(it) {
					return
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}
