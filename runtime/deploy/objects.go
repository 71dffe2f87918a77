package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is a file the platform's code reads at run time, kept in the
// private bucket: the compiled graph (graph.json) and the configuration
// the pollers load (runtime/platform).
type Object struct {
	Bucket, Key, ContentType string
	Data                     []byte
}

// objects puts each platform object where the functions and tasks look
// for it, unless the same bytes are there (by the sha256 deploy records
// in the object's metadata).
func (p *planner) objects(ctx context.Context) error {
	for _, o := range p.want.Objects {
		o := o
		sum := sha256.Sum256(o.Data)
		hexSum := hex.EncodeToString(sum[:])
		name := "s3://" + o.Bucket + "/" + o.Key
		head, err := p.c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)})
		op, reasons := OpUpdate, []string{"content changed"}
		switch code := errorCode(err); {
		case err == nil && head.Metadata["sha256"] == hexSum:
			p.add(&Action{Op: OpUnchanged, Kind: KindObject, Name: name, Block: "platform"})
			continue
		case err == nil:
		case code == "NotFound" || code == "NoSuchKey" || code == "NoSuchBucket":
			op, reasons = OpCreate, nil
		default:
			return fmt.Errorf("%s: %w", name, err)
		}
		p.add(&Action{Op: op, Kind: KindObject, Name: name, Block: "platform", Reasons: reasons, run: func(ctx context.Context) error {
			_, err := p.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key), Body: bytesReader(o.Data),
				ContentType: aws.String(o.ContentType), Metadata: map[string]string{"sha256": hexSum}})
			return err
		}})
	}
	return nil
}
