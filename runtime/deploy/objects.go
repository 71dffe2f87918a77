package deploy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cumulus-toolchain/cumulus/runtime/platform/layout"
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

// SecretsObject is the distribution's secrets (layout.Secrets): a signing
// key made by the first deploy and never replaced (tokens and links stay
// valid across deploys), and the local users when the deployer gives them.
type SecretsObject struct {
	Bucket, Key string
	// Users replace those kept when not "".
	Users string
}

// secrets plans the distribution's secrets: created with a new key when
// missing, updated only when the deployer gives other users. The values
// are never printed.
func (p *planner) secrets(ctx context.Context) error {
	sec := p.want.Secrets
	if sec == nil {
		return nil
	}
	name := "s3://" + sec.Bucket + "/" + sec.Key
	out, err := p.c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(sec.Bucket), Key: aws.String(sec.Key)})
	var have layout.Secrets
	switch code := errorCode(err); {
	case err == nil:
		data, rerr := io.ReadAll(out.Body)
		out.Body.Close()
		if rerr != nil || json.Unmarshal(data, &have) != nil || have.Key == "" {
			have = layout.Secrets{} // unreadable: replaced below, with a new key
		}
	case code == "NoSuchKey" || code == "NotFound" || code == "NoSuchBucket":
	default:
		return fmt.Errorf("%s: %w", name, err)
	}
	want := have
	if sec.Users != "" {
		want.Users = sec.Users
	}
	op, reasons := OpUpdate, []string{"local users changed"}
	switch {
	case have.Key == "":
		op, reasons = OpCreate, []string{"a new signing key for links and tokens"}
	case want == have:
		p.add(&Action{Op: OpUnchanged, Kind: KindObject, Name: name, Block: "platform"})
		return nil
	}
	p.add(&Action{Op: op, Kind: KindObject, Name: name, Block: "platform", Reasons: reasons, run: func(ctx context.Context) error {
		if want.Key == "" {
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			want.Key = base64.StdEncoding.EncodeToString(key)
		}
		data, err := json.Marshal(want)
		if err != nil {
			return err
		}
		_, err = p.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sec.Bucket), Key: aws.String(sec.Key), Body: bytesReader(data),
			ContentType: aws.String("application/json"), ServerSideEncryption: s3types.ServerSideEncryptionAes256})
		return err
	}})
	return nil
}
