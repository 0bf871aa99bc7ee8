package lake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	icebergs3 "github.com/apache/iceberg-go/io/gocloud/s3" // registers s3:// (and s3a://, s3n://) with iceberg-go's IO
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3 is how the lake reaches an s3:// warehouse: the config's s3 block. Without AccessKeyID and
// SecretAccessKey the standard AWS credential chain applies (environment, shared files, instance roles).
type S3 struct {
	Endpoint        string // http(s)://host[:port]; empty for AWS
	Region          string // with an endpoint and no region, us-east-1
	PathStyle       bool   // ENDPOINT/BUCKET instead of BUCKET.ENDPOINT
	AccessKeyID     string
	SecretAccessKey string
}

// Option configures Open.
type Option func(*Lake)

// WithS3 sets how an s3:// warehouse is reached. Without it an s3:// warehouse uses AWS with the standard
// credential chain and the region from the environment.
func WithS3(s S3) Option { return func(l *Lake) { l.s3 = s } }

// WithCache sets the directory and size bound of the on-disk cache of remote data files that
// [Lake.Snapshot] reads through (see cache.go). Without it: $BIGFATHER_CACHE_DIR, or bigfather/s3 under the
// user's cache directory, bounded by $BIGFATHER_CACHE_SIZE (bytes, or with a KiB, MiB, GiB suffix; default
// 4GiB).
func WithCache(dir string, maxBytes int64) Option {
	return func(l *Lake) { l.cache = &fileCache{dir: dir, max: maxBytes} }
}

// props are the iceberg-go IO properties that reach the warehouse (io.S3* keys).
func (s S3) props() iceberg.Properties {
	p := iceberg.Properties{}
	region := s.Region
	if region == "" && s.Endpoint != "" {
		region = "us-east-1" // S3-compatible stores ignore it, but requests must be signed for one
	}
	if region != "" {
		p[icebergio.S3Region] = region
	}
	if s.Endpoint != "" {
		p[icebergio.S3EndpointURL] = s.Endpoint
	}
	p[icebergio.S3ForceVirtualAddressing] = strconv.FormatBool(!s.PathStyle)
	if s.AccessKeyID != "" {
		p[icebergio.S3AccessKeyID] = s.AccessKeyID
		p[icebergio.S3SecretAccessKey] = s.SecretAccessKey
	}
	return p
}

// catalogProps are the properties every catalog is opened with: the warehouse and, for an s3:// warehouse,
// how to reach it (iceberg-go hands the catalog's properties to the file IO of every table it loads).
func (l *Lake) catalogProps() iceberg.Properties {
	p := iceberg.Properties{"warehouse": l.warehouse}
	if l.remote() {
		for k, v := range l.s3.props() {
			p[k] = v
		}
	}
	return p
}

// remote reports whether the warehouse is an object store rather than a local directory.
func (l *Lake) remote() bool { return strings.HasPrefix(l.warehouse, "s3://") }

// hide removes the secret access key from a message, whatever produced it.
func (l *Lake) hide(err error) error {
	if err == nil || l.s3.SecretAccessKey == "" || !strings.Contains(err.Error(), l.s3.SecretAccessKey) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), l.s3.SecretAccessKey, "<redacted>"))
}

// s3Warehouse splits s3://bucket/prefix.
func s3Warehouse(wh string) (bucket, prefix string) {
	bucket, prefix, _ = strings.Cut(strings.TrimPrefix(wh, "s3://"), "/")
	return bucket, strings.Trim(prefix, "/")
}

// probeTimeout bounds the start-up check of an s3:// warehouse; the SDK retries within it.
const probeTimeout = 20 * time.Second

// checkS3 lists one key under the warehouse prefix, so a bad endpoint, a missing bucket or wrong credentials
// fail at start with an error that names the config key to fix (never the secret) instead of at the first
// commit.
func (l *Lake) checkS3(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	bucket, prefix := s3Warehouse(l.warehouse)
	props := l.s3.props()
	cfg, err := icebergs3.ParseAWSConfig(ctx, props)
	if err != nil {
		return l.hide(fmt.Errorf("warehouse %s: configuring S3 (s3 block): %w", l.warehouse, err))
	}
	client := s3.NewFromConfig(*cfg, func(o *s3.Options) {
		if l.s3.Endpoint != "" {
			o.BaseEndpoint = aws.String(l.s3.Endpoint)
		}
		o.UsePathStyle = l.s3.PathStyle
	})
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)}
	if prefix != "" {
		in.Prefix = aws.String(prefix + "/")
	}
	_, err = client.ListObjectsV2(ctx, in)
	if err == nil {
		return nil
	}
	return l.hide(fmt.Errorf("warehouse %s: %s", l.warehouse, l.explainS3(err, bucket)))
}

// explainS3 turns a failed request into what to fix, naming the config key.
func (l *Lake) explainS3(err error, bucket string) string {
	endpoint := l.s3.Endpoint
	if endpoint == "" {
		endpoint = "AWS"
	}
	creds := "s3.access_key_id / s3.secret_access_key"
	if l.s3.AccessKeyID == "" {
		creds = "the AWS credential chain (s3.access_key_id / s3.secret_access_key are not set)"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch code {
		case "NoSuchBucket", "NotFound":
			return fmt.Sprintf("bucket %q does not exist at %s (check warehouse and s3.endpoint): %s", bucket, endpoint, code)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidClientTokenId":
			return fmt.Sprintf("the S3 store refused the credentials (check %s): %s: %s", creds, code, api.ErrorMessage())
		case "AccessDenied", "Forbidden":
			return fmt.Sprintf("access to bucket %q denied (check %s and the bucket's policy): %s: %s", bucket, creds, code, api.ErrorMessage())
		case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException", "InvalidRegion":
			return fmt.Sprintf("wrong region for bucket %q (check s3.region): %s: %s", bucket, code, api.ErrorMessage())
		}
		var resp *awshttp.ResponseError
		if errors.As(err, &resp) && resp.HTTPStatusCode() == 403 || strings.Contains(code, "UserNotFound") {
			// versitygw answers an unknown access key id with XAdminUserNotFound.
			return fmt.Sprintf("the S3 store refused the credentials (check %s): %s: %s", creds, code, api.ErrorMessage())
		}
		return fmt.Sprintf("S3 request to %s failed (check warehouse and the s3 block): %s: %s", endpoint, code, api.ErrorMessage())
	}
	var nerr net.Error
	var uerr *url.Error
	var operr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case strings.Contains(err.Error(), "failed to retrieve credentials"), strings.Contains(err.Error(), "no EC2 IMDS role found"):
		return fmt.Sprintf("no S3 credentials found (set %s): %v", creds, err)
	case errors.As(err, &dnsErr), errors.As(err, &operr):
		return fmt.Sprintf("cannot reach the S3 endpoint %s (check s3.endpoint): %v", endpoint, errCause(err))
	case errors.As(err, &nerr) && nerr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the S3 endpoint %s did not answer within %s (check s3.endpoint): %v", endpoint, probeTimeout, errCause(err))
	case errors.As(err, &uerr):
		return fmt.Sprintf("cannot reach the S3 endpoint %s (check s3.endpoint): %v", endpoint, errCause(err))
	}
	return fmt.Sprintf("S3 request to %s failed (check s3.endpoint, s3.region and the credentials): %v", endpoint, err)
}

// errCause is the innermost error, which for a network failure is what says why ("connection refused").
func errCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
