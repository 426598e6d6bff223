package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

var _ Store = (*s3Store)(nil)

// s3Store keeps each object at s3://BUCKET/PREFIX/KEY.
//
// PutIfAbsent is PutObject with If-None-Match: *, PutIfMatch is PutObject with
// If-Match: ETAG; the server decides, so they are safe across hosts. ETags
// are the server's (an MD5 of the content for single-part uploads, so
// rewriting identical bytes keeps the ETag). The SDK's own retryer is off;
// every request is retried here, with jittered exponential backoff, on
// throttling (503 SlowDown and friends), 5xx, 409 ConditionalRequestConflict
// and connection errors, and each retry is logged at debug level.
type s3Store struct {
	client      *s3.Client
	bucket      string
	prefix      string // "" or ending in "/"
	maxAttempts int
}

// S3Option configures NewS3.
type S3Option func(*s3Options)

type s3Options struct {
	endpoint             string
	region               string
	accessKey, secretKey string
	pathStyle            *bool
	maxAttempts          int
	client               []func(*s3.Options)
}

// WithS3Endpoint sets the endpoint URL (default: AWS_ENDPOINT_URL or AWS).
func WithS3Endpoint(url string) S3Option { return func(o *s3Options) { o.endpoint = url } }

// WithS3Region sets the region (default: AWS_REGION, the shared config, or
// us-east-1).
func WithS3Region(region string) S3Option { return func(o *s3Options) { o.region = region } }

// WithS3Credentials sets static credentials (default: the SDK's chain,
// starting with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
func WithS3Credentials(accessKey, secretKey string) S3Option {
	return func(o *s3Options) { o.accessKey, o.secretKey = accessKey, secretKey }
}

// WithS3PathStyle selects path-style addressing (http://host/bucket/key)
// instead of virtual-hosted style (default: SKYBUTLER_S3_PATH_STYLE=1).
func WithS3PathStyle(on bool) S3Option { return func(o *s3Options) { o.pathStyle = &on } }

// WithS3MaxAttempts sets how often one call tries a request (default 10).
func WithS3MaxAttempts(n int) S3Option { return func(o *s3Options) { o.maxAttempts = n } }

// WithS3ClientOptions adjusts the SDK client after NewS3 has configured it.
func WithS3ClientOptions(fn func(*s3.Options)) S3Option {
	return func(o *s3Options) { o.client = append(o.client, fn) }
}

// NewS3 returns a Store on s3://bucket/prefix. Endpoint, credentials and
// region come from the standard AWS environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE, ...)
// unless opts override them; the region defaults to us-east-1. Path-style
// addressing is used when SKYBUTLER_S3_PATH_STYLE=1. NewS3 sends no request.
func NewS3(ctx context.Context, bucket, prefix string, opts ...S3Option) (Store, error) {
	if bucket == "" {
		return nil, errors.New("s3 store: empty bucket name")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if reason := invalidKey(prefix); reason != "" {
			return nil, fmt.Errorf("s3 store: prefix %q: %s", prefix, reason)
		}
		prefix += "/"
	}
	o := s3Options{maxAttempts: 10}
	if v, err := strconv.ParseBool(os.Getenv("SKYBUTLER_S3_PATH_STYLE")); err == nil {
		o.pathStyle = &v
	}
	for _, opt := range opts {
		opt(&o)
	}

	cfg, err := loadAWSConfig(ctx, o.region, o.accessKey, o.secretKey)
	if err != nil {
		return nil, fmt.Errorf("s3 store: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
		}
		if o.pathStyle != nil {
			so.UsePathStyle = *o.pathStyle
		}
		// Checksums only where S3 requires them: the default adds
		// aws-chunked trailers that some S3-compatible servers reject.
		so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		so.Retryer = aws.NopRetryer{} // see (*s3Store).retry
		for _, fn := range o.client {
			fn(so)
		}
	})
	return &s3Store{client: client, bucket: bucket, prefix: prefix, maxAttempts: max(o.maxAttempts, 1)}, nil
}

func (s *s3Store) URI() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// retryables decides which errors the store retries: the SDK's defaults
// (throttling, 5xx, connection errors) plus conflicting conditional writes.
var retryables = retry.IsErrorRetryables(append(slices.Clone(retry.DefaultRetryables),
	retry.RetryableErrorCode{Codes: map[string]struct{}{
		"ConditionalRequestConflict": {},
		"OperationAborted":           {},
	}},
))

// retryable reports whether the attempt-th try of a request, which failed
// with err, should be repeated.
func retryable(err error, attempt int) bool {
	if code, _ := s3Code(err); code == "ExistingObjectIsDirectory" {
		// versitygw's posix backend reports this (409) also when a
		// concurrent DeleteObject removed the directory it was creating
		// for the key; a real directory conflict fails again soon.
		return attempt < 3
	}
	return retryables.IsErrorRetryable(err) == aws.TrueTernary || errors.Is(err, io.ErrUnexpectedEOF)
}

const (
	retryBase = 20 * time.Millisecond
	retryMax  = 2 * time.Second
)

// retry calls op until it succeeds, fails finally, or s.maxAttempts is used
// up, sleeping between attempts with jittered exponential backoff.
func (s *s3Store) retry(ctx context.Context, action, key string, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || attempt >= s.maxAttempts || ctx.Err() != nil || !retryable(err, attempt) {
			return err
		}
		d := min(retryMax, retryBase<<(attempt-1))
		d = d/2 + rand.N(d/2)
		slog.DebugContext(ctx, "objstore: retrying S3 request", "action", action, "key", key,
			"attempt", attempt, "delay", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// s3Error maps an SDK error to the store's errors, wrapped with the action
// and key.
func s3Error(action, key string, err error) error {
	code, status := s3Code(err)
	switch {
	case code == "NoSuchKey" || code == "NotFound" || status == 404 && code != "NoSuchBucket":
		return fmt.Errorf("%s %s: %w", action, key, ErrNotFound)
	case code == "PreconditionFailed" || status == 412:
		return fmt.Errorf("%s %s: %w", action, key, ErrPreconditionFailed)
	}
	return fmt.Errorf("%s %s: %w", action, key, err)
}

func s3Code(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func (s *s3Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := begin(ctx, "get", key); err != nil {
		return nil, err
	}
	data, err := s.get(ctx, key, nil)
	if err != nil {
		return nil, s3Error("get", key, err)
	}
	return data, nil
}

func (s *s3Store) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if err := begin(ctx, "get", key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	if length == 0 { // no HTTP range selects nothing; only check that key exists
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, fmt.Errorf("get %s: %w", key, errors.Unwrap(err))
		}
		return []byte{}, nil
	}
	rng := fmt.Sprintf("bytes=%d-", offset)
	if length > 0 {
		rng += strconv.FormatInt(offset+length-1, 10)
	}
	data, err := s.get(ctx, key, &rng)
	if code, status := s3Code(err); code == "InvalidRange" || status == 416 {
		return []byte{}, nil // the object exists, and ends at or before offset
	} else if err != nil {
		return nil, s3Error("get", key, err)
	}
	return data, nil
}

func (s *s3Store) get(ctx context.Context, key string, rng *string) ([]byte, error) {
	var data []byte
	err := s.retry(ctx, "get", key, func() error {
		out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
			Bucket: &s.bucket,
			Key:    aws.String(s.prefix + key),
			Range:  rng,
		})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		if n := aws.ToInt64(out.ContentLength); n > 0 {
			data = make([]byte, n)
			_, err = io.ReadFull(out.Body, data)
		} else {
			data, err = io.ReadAll(out.Body)
		}
		return err
	})
	return data, err
}

func (s *s3Store) Put(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	return s.put(ctx, "put", key, data, nil, nil)
}

func (s *s3Store) PutIfAbsent(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	return s.put(ctx, "put-if-absent", key, data, aws.String("*"), nil)
}

func (s *s3Store) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (ObjectInfo, error) {
	var info ObjectInfo
	var err error
	if etag == "" || etag == "*" || strings.Contains(etag, ",") {
		// No single ETag: the SDK would drop an empty If-Match, and the
		// server would read "*" or a list as "any of".
		if err = begin(ctx, "put-if-match", key); err == nil {
			err = fmt.Errorf("put-if-match %s: %w", key, ErrPreconditionFailed)
		}
	} else {
		info, err = s.put(ctx, "put-if-match", key, data, nil, &etag)
	}
	if errors.Is(err, ErrPreconditionFailed) {
		// S3 answers 404 for a missing key; some servers answer 412.
		if _, serr := s.Stat(ctx, key); errors.Is(serr, ErrNotFound) {
			return ObjectInfo{}, fmt.Errorf("put-if-match %s: %w", key, ErrNotFound)
		}
	}
	return info, err
}

func (s *s3Store) put(ctx context.Context, action, key string, data []byte, ifNoneMatch, ifMatch *string) (ObjectInfo, error) {
	if err := begin(ctx, action, key); err != nil {
		return ObjectInfo{}, err
	}
	var out *s3.PutObjectOutput
	err := s.retry(ctx, action, key, func() (err error) {
		out, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &s.bucket,
			Key:           aws.String(s.prefix + key),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
			IfNoneMatch:   ifNoneMatch,
			IfMatch:       ifMatch,
		})
		return err
	})
	if err != nil {
		return ObjectInfo{}, s3Error(action, key, err)
	}
	// PutObject reports no modification time; the client's clock stands in.
	return ObjectInfo{Key: key, Size: int64(len(data)), ETag: aws.ToString(out.ETag), ModTime: time.Now()}, nil
}

func (s *s3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := begin(ctx, "stat", key); err != nil {
		return ObjectInfo{}, err
	}
	var out *s3.HeadObjectOutput
	err := s.retry(ctx, "stat", key, func() (err error) {
		out, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
		return err
	})
	if err != nil {
		return ObjectInfo{}, s3Error("stat", key, err)
	}
	return ObjectInfo{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    aws.ToString(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

func (s *s3Store) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	limit = pageSize(limit)
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(s.prefix + startAfter)
	}
	var infos []ObjectInfo
	for len(infos) < limit {
		in.MaxKeys = aws.Int32(int32(min(limit-len(infos), 1000)))
		var out *s3.ListObjectsV2Output
		err := s.retry(ctx, "list", prefix, func() (err error) {
			out, err = s.client.ListObjectsV2(ctx, in)
			return err
		})
		if err != nil {
			return infos, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range out.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if invalidKey(key) != "" {
				continue // a "directory/" marker or other foreign object
			}
			infos = append(infos, ObjectInfo{
				Key:     key,
				Size:    aws.ToInt64(o.Size),
				ETag:    aws.ToString(o.ETag),
				ModTime: aws.ToTime(o.LastModified),
			})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	return infos, nil
}

func (s *s3Store) Delete(ctx context.Context, key string) error {
	if err := begin(ctx, "delete", key); err != nil {
		return err
	}
	err := s.retry(ctx, "delete", key, func() error {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
		return err
	})
	if err == nil {
		return nil
	}
	if err := s3Error("delete", key, err); !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil // S3 answers 204 for a missing key; some servers 404
}
