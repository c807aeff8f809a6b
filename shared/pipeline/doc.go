// Package pipeline holds no production code: its tests run the whole command pipeline in one
// process against DynamoDB Local and the SQS stand-in, through the adapters that run in AWS. E1,
// E3 and E4 (shared/commands) queue commands, the consumer (shared/consumer) applies them, the
// notifier (shared/notifier) turns outcomes on the table's stream into notifications, and E2, E5
// and E7 (shared/reads) read them back.
package pipeline
