// Command command-consumer applies the queued commands to the table (shared/consumer).
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/consumer"
)

func main() {
	_, log, cfg := awsedge.Boot()
	q, _ := catalog.QueueNamed(catalog.CommandQueue)
	st := awsedge.Store(cfg)
	box, err := awsedge.SecretBox(cfg)
	if err != nil {
		awsedge.Fatal(log, "channel secret key (it seals the pick-up PINs)", err)
	}
	c := &consumer.Consumer{
		// Registry look-ups are kept a minute: a right action resolves two or three parties.
		Store: consumer.CachedLookups(st, time.Minute, time.Now),
		DeadLetters: awsedge.DeadLetterQueue{
			Client: awsedge.SQS(cfg), URL: awsedge.MustEnv("DEAD_LETTER_QUEUE_URL"), ParkedBy: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		},
		Attempts:    st,
		MaxAttempts: q.MaxAttempts,
		Now:         time.Now,
		Log:         log,
		NewID:       consumer.NewID,
		Box:         box,
	}
	lambda.Start(c.Handle)
}
