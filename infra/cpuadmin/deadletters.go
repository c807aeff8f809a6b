package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/release"
)

// deadLetters serves `cpuadmin dead-letters list|redrive|status`: what the consumer gave up on,
// and putting it back once the cause is fixed.
func deadLetters(ctx context.Context, action, queue, stage string, out io.Writer) error {
	q, ok := catalog.QueueNamed(queue)
	if !ok {
		return fmt.Errorf("no queue %q in the catalog", queue)
	}
	ops, sourceURL, dlqURL, err := queueOps(ctx, q, stage)
	if err != nil {
		return err
	}
	switch action {
	case "list":
		parked, err := ops.List(ctx, dlqURL, 1000)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		defer w.Flush()
		fmt.Fprintln(w, "MESSAGE ID\tCONTAINER\tREFERENCE\tACTION\tFAILURE\tRECEIVES\tPARKED AT\tREASON")
		for _, p := range parked {
			var cmd release.Command
			_ = json.Unmarshal([]byte(p.Body), &cmd) // an undecodable body is shown by its reason
			failure := p.Failure
			if failure == "" && p.SourceArn != "" {
				failure = "moved by SQS (see the consumer's logs)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.MessageID, p.Group, cmd.PublicReferenceID, cmd.Action, failure, p.ReceiveCount, p.ParkedAt, p.Reason)
		}
		total, err := ops.Count(ctx, dlqURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d shown of %d in %s (a FIFO queue shows the oldest messages of each container first)\n", len(parked), total, q.DLQName())
	case "redrive":
		n, err := ops.Redrive(ctx, dlqURL, sourceURL)
		if err != nil {
			return err
		}
		if n < 0 {
			fmt.Fprintf(out, "move task started from %s to %s; follow it with: cpuadmin dead-letters status --stage %s\n", q.DLQName(), q.PhysicalName(), stage)
		} else {
			fmt.Fprintf(out, "%d message(s) moved from %s back to %s\n", n, q.DLQName(), q.PhysicalName())
		}
	case "status":
		lines, err := ops.MoveTaskStatus(ctx, dlqURL)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	default:
		return usage()
	}
	return nil
}

// queueOps finds a catalog queue and its DLQ on the local stack (stack.json) or a deployed stage.
func queueOps(ctx context.Context, q catalog.Queue, stage string) (awsedge.DeadLetterOps, string, string, error) {
	if stage == "" || stage == localstack.Stage {
		root, err := localstack.FindRoot()
		if err != nil {
			return awsedge.DeadLetterOps{}, "", "", err
		}
		raw, err := os.ReadFile(filepath.Join(root, ".local", "stack.json"))
		if err != nil {
			return awsedge.DeadLetterOps{}, "", "", fmt.Errorf("no local stack is running (start it with make run), or pass --stage: %w", err)
		}
		var st localstack.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return awsedge.DeadLetterOps{}, "", "", err
		}
		b := &localstack.Backends{SQSEndpoint: st.SQSEndpoint}
		return awsedge.DeadLetterOps{Client: b.SQS()}, st.Queues[q.Name], st.Queues[q.DLQName()], nil
	}
	cfg, err := awsedge.Config(ctx)
	if err != nil {
		return awsedge.DeadLetterOps{}, "", "", err
	}
	client := awsedge.SQS(cfg)
	url := func(name string) (string, error) {
		out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(fmt.Sprintf("cpu-%s-%s", stage, name))})
		if err != nil {
			return "", fmt.Errorf("queue %s of stage %s: %w", name, stage, err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	source, err1 := url(q.PhysicalName())
	dlq, err2 := url(q.DLQName())
	return awsedge.DeadLetterOps{Client: client, MoveTasks: true}, source, dlq, errors.Join(err1, err2)
}
