package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// scopedItemReader is an S3 JSON ItemReader whose IAM grant is limited to
// the wave manifests (repo/qgraphs/*/waves/*): CDK's own reader grants
// s3:GetObject on the whole bucket. Everything else is the CDK reader's.
type scopedItemReader struct {
	inner  sfn.S3JsonItemReader
	bucket awss3.IBucket
	keys   string // object key pattern the state machine may read
}

func newWaveManifestReader(bucket awss3.IBucket, keyPath string) *scopedItemReader {
	return &scopedItemReader{
		inner:  sfn.NewS3JsonItemReader(&sfn.S3FileItemReaderProps{Bucket: bucket, Key: jsii.String(keyPath)}),
		bucket: bucket,
		keys:   RepoPrefix + "/qgraphs/*/waves/*",
	}
}

func (r *scopedItemReader) ProvidePolicyStatements() *[]awsiam.PolicyStatement {
	return &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWaveManifests"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*r.bucket.ArnForObjects(jsii.String(r.keys))),
	})}
}

func (r *scopedItemReader) Render(ql sfn.QueryLanguage) any { return r.inner.Render(ql) }
func (r *scopedItemReader) ValidateItemReader() *[]*string  { return r.inner.ValidateItemReader() }
func (r *scopedItemReader) Bucket() awss3.IBucket           { return r.inner.Bucket() }
func (r *scopedItemReader) BucketNamePath() *string         { return r.inner.BucketNamePath() }
func (r *scopedItemReader) MaxItems() *float64              { return r.inner.MaxItems() }
func (r *scopedItemReader) Resource() *string               { return r.inner.Resource() }
