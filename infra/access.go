package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Access is what one function may do in the data bucket: read and write
// objects under key patterns (relative to the bucket). Writing includes
// deleting: a writer removes the files of a commit it lost.
type Access struct {
	Read, Write []string
}

// Repository prefixes, as bucket key patterns.
const (
	repoAll        = RepoPrefix + "/*"
	repoRegistry   = RepoPrefix + "/registry/*"
	repoDatastore  = RepoPrefix + "/datastore/*"
	repoQGraphs    = RepoPrefix + "/qgraphs/*"
	repoProvenance = RepoPrefix + "/provenance/*"
	uploadsAll     = UploadsPrefix + "*"
)

// FunctionAccess is the least privilege of each function:
//   - only ingest, plan (it registers the output RUN and the dataset types
//     of a pipeline), merge and compact write the registry;
//   - execute reads its batches (qgraphs) and inputs (datastore) and writes
//     only outputs (datastore) and provenance documents: it never touches
//     the registry;
//   - ingest copies uploads into the datastore; merge writes the tasks'
//     config datasets into the datastore.
var FunctionAccess = map[string]Access{
	Ingest:  {Read: []string{uploadsAll, repoAll}, Write: []string{repoRegistry, repoDatastore}},
	Plan:    {Read: []string{repoAll}, Write: []string{repoQGraphs, repoRegistry}},
	Execute: {Read: []string{repoQGraphs, repoDatastore, repoProvenance}, Write: []string{repoDatastore, repoProvenance}},
	Merge:   {Read: []string{repoAll}, Write: []string{repoRegistry, repoDatastore}},
	Compact: {Read: []string{repoAll}, Write: []string{repoRegistry}},
}

// grantRepoAccess gives each function exactly FunctionAccess. Every
// function may list the bucket: S3 answers a read of a missing key with 404
// (which the repository code relies on: a missing checkpoint, an input not
// yet written) only to a caller that holds s3:ListBucket; listing shows
// names, never contents.
func grantRepoAccess(bucket awss3.IBucket, fns map[string]awslambda.Function) {
	objects := func(patterns []string) *[]*string {
		var out []*string
		for _, p := range patterns {
			out = append(out, bucket.ArnForObjects(jsii.String(p)))
		}
		return &out
	}
	for _, name := range Functions {
		fn, acc := fns[name], FunctionAccess[name]
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ListBucket"),
			Actions:   jsii.Strings("s3:ListBucket"),
			Resources: jsii.Strings(*bucket.BucketArn()),
		}))
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadObjects"),
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: objects(acc.Read),
		}))
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteObjects"),
			Actions:   jsii.Strings("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
			Resources: objects(acc.Write),
		}))
	}
}
