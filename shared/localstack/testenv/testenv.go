// Package testenv starts DynamoDB Local and the SQS stand-in for a package's integration tests
// (once, from TestMain) and makes a fresh table per test, so tests run against the real engines
// through the same adapters as in AWS.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
)

var (
	backends *localstack.Backends
	tables   atomic.Int64
)

// Main starts the stand-ins, runs the package's tests and stops them. Without the npm tools it
// fails with the command that installs them: integration tests never skip silently.
func Main(m *testing.M) {
	root, err := localstack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logDir, _ := os.MkdirTemp("", "cpu-testenv-")
	backends, err = localstack.StartBackends(context.Background(), filepath.Join(root, ".tools"), logDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need the local stand-ins:", err)
		os.Exit(1)
	}
	code := m.Run()
	backends.Stop()
	os.RemoveAll(logDir)
	os.Exit(code)
}

// Backends returns the running stand-ins.
func Backends() *localstack.Backends { return backends }

// Table creates a fresh single table (same schema as the stacks) and returns its name.
func Table(t testing.TB) string {
	t.Helper()
	return table(t, localstack.CreateTable)
}

// TableWithoutStream creates the table without its stream, for tests that write tens of thousands
// of items and need no stream consumer (see localstack.CreateTableWithoutStream).
func TableWithoutStream(t testing.TB) string {
	t.Helper()
	return table(t, localstack.CreateTableWithoutStream)
}

func table(t testing.TB, create func(context.Context, *dynamodb.Client, string, catalog.TableSchema) error) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", tables.Add(1), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(name) > 200 {
		name = name[:200]
	}
	if err := create(context.Background(), backends.DynamoDB(), name, catalog.SingleTable); err != nil {
		t.Fatal(err)
	}
	// Dropped when the test ends, to keep DynamoDB Local small.
	t.Cleanup(func() {
		_, _ = backends.DynamoDB().DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// Eventually asks done on every tick until it answers true or timeout passes, and reports which.
// Tests wait on evidence they can read (a stored notification, an applied command), never on a
// fixed sleep; the timeout only bounds a test that would otherwise hang.
func Eventually(timeout time.Duration, done func() bool) bool {
	return EventuallyEvery(timeout, 50*time.Millisecond, done)
}

// EventuallyEvery is Eventually asking every interval: evidence read through the API is asked for
// less often, so the polling stays inside the usage plan's 500 calls a minute.
func EventuallyEvery(timeout, interval time.Duration, done func() bool) bool {
	if done() {
		return true
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	expired := time.After(timeout)
	for {
		select {
		case <-tick.C:
			if done() {
				return true
			}
		case <-expired:
			return done()
		}
	}
}
