// Package stack is the CDK stack of one stage (staging or production), built from the function
// catalog (shared/catalog) exactly as the local stack is.
package stack

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/problem"
)

// Props of a stage's stack.
type Props struct {
	awscdk.StackProps
	Stage   string
	Catalog catalog.Catalog
	// AssetDir holds <function>/bootstrap (make build writes .build/lambda).
	AssetDir string
	// AllowedPorts is the comma-separated list of UN/LOCODEs served.
	AllowedPorts string
	// MailDomain is the domain the platform's e-mail comes from (a verified SES identity; its DNS
	// records are the operator's to publish), and ConsoleURL the console's address in e-mails.
	MailDomain string
	ConsoleURL string
	// ConsoleDir holds the console's static files (shared/console/static); empty: the console's
	// hosting is made without uploading files.
	ConsoleDir string
}

// Built exposes what tests and outputs need.
type Built struct {
	Stack     awscdk.Stack
	Table     awsdynamodb.Table
	Api       awsapigateway.RestApi
	UsagePlan awsapigateway.UsagePlan
	Functions map[string]awslambda.Function
}

// New builds a stage's stack.
func New(scope constructs.Construct, id string, props Props) *Built {
	st := awscdk.NewStack(scope, &id, &props.StackProps)
	awscdk.Tags_Of(st).Add(jsii.String("cpu:stage"), jsii.String(props.Stage), nil)
	production := props.Stage == "production"
	removal := awscdk.RemovalPolicy_DESTROY
	if production {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	b := &Built{Stack: st, Functions: map[string]awslambda.Function{}}

	schema := catalog.SingleTable
	b.Table = awsdynamodb.NewTable(st, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    jsii.String("cpu-" + props.Stage),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(schema.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(schema.SortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Stream:              awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		TimeToLiveAttribute: jsii.String(schema.TTLAttribute),
		DeletionProtection:  jsii.Bool(production),
		RemovalPolicy:       removal,
	})
	for _, ix := range schema.Indexes {
		gsi := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ix.SortKey), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		}
		if ix.Projection == catalog.ProjectInclude {
			gsi.ProjectionType, gsi.NonKeyAttributes = awsdynamodb.ProjectionType_INCLUDE, jsii.Strings(ix.Include...)
		}
		b.Table.AddGlobalSecondaryIndex(gsi)
	}

	// The token signing key never leaves KMS: the token function may only Sign, the authorizer may
	// only read the public key.
	tokenKey := awskms.NewKey(st, jsii.String("TokenKey"), &awskms.KeyProps{
		Description:   jsii.String("CPu " + props.Stage + " bearer token signing key (ES256)"),
		KeySpec:       awskms.KeySpec_ECC_NIST_P256,
		KeyUsage:      awskms.KeyUsage_SIGN_VERIFY,
		RemovalPolicy: removal,
	})
	// Client secrets are hashed with a key derived from this HMAC key (a MAC of a fixed label), so
	// the hash key exists only in KMS and in the memory of the token function and support staff's
	// tooling, who may call kms:GenerateMac on it.
	secretKey := awskms.NewKey(st, jsii.String("ClientSecretKey"), &awskms.KeyProps{
		Description:   jsii.String("CPu " + props.Stage + " client-secret hash key (HMAC, derivation only)"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		RemovalPolicy: removal,
	})

	// Channel secrets (signing secrets, receivers' OAuth2 secrets and tokens) are sealed under data
	// keys of this key, the channel id as encryption context: the endpoints that take secrets may
	// only make data keys (GenerateDataKey); the senders also Decrypt them.
	channelKey := awskms.NewKey(st, jsii.String("ChannelSecretKey"), &awskms.KeyProps{
		Description:       jsii.String("CPu " + props.Stage + " notification-channel secrets"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})

	// E-mail (contract §11): the domain's identity, sent through a configuration set that keeps
	// bounces and complaints on the account's suppression list.
	mailDomain := props.MailDomain
	if mailDomain == "" {
		mailDomain = "cpu.example.com"
	}
	configSet := awsses.NewConfigurationSet(st, jsii.String("MailConfigurationSet"), &awsses.ConfigurationSetProps{
		ConfigurationSetName: jsii.String("cpu-" + props.Stage),
		SuppressionReasons:   awsses.SuppressionReasons_BOUNCES_AND_COMPLAINTS,
		ReputationMetrics:    jsii.Bool(true),
	})
	mailIdentity := awsses.NewEmailIdentity(st, jsii.String("MailIdentity"), &awsses.EmailIdentityProps{
		Identity:         awsses.Identity_Domain(jsii.String(mailDomain)),
		ConfigurationSet: configSet,
	})
	consoleURL := props.ConsoleURL
	if consoleURL == "" {
		consoleURL = "https://console." + mailDomain + "/"
	}

	queues := map[string]awssqs.Queue{}
	dlqs := map[string]awssqs.Queue{}
	for _, q := range props.Catalog.Queues {
		dlq := awssqs.NewQueue(st, jsii.String(pascal(q.Name)+"Dlq"), &awssqs.QueueProps{
			QueueName:       jsii.String(fmt.Sprintf("cpu-%s-%s", props.Stage, q.DLQName())),
			Fifo:            boolPtrIf(q.FIFO),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
		})
		retention := 4
		if q.RetentionDays > 0 {
			retention = q.RetentionDays
		}
		mainProps := &awssqs.QueueProps{
			QueueName:         jsii.String(fmt.Sprintf("cpu-%s-%s", props.Stage, q.PhysicalName())),
			Fifo:              boolPtrIf(q.FIFO),
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(q.VisibilityTimeout.Seconds())),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(float64(retention))),
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(q.MaxReceives))},
		}
		if q.HighThroughput {
			mainProps.DeduplicationScope = awssqs.DeduplicationScope_MESSAGE_GROUP
			mainProps.FifoThroughputLimit = awssqs.FifoThroughputLimit_PER_MESSAGE_GROUP_ID
		}
		main := awssqs.NewQueue(st, jsii.String(pascal(q.Name)), mainProps)
		queues[q.Name], dlqs[q.Name] = main, dlq
		alarmOnDLQ(st, pascal(q.Name)+"DlqAlarm", dlq)
		if q.AgeAlarm > 0 {
			awscloudwatch.NewAlarm(st, jsii.String(pascal(q.Name)+"AgeAlarm"), &awscloudwatch.AlarmProps{
				AlarmDescription: jsii.String(fmt.Sprintf("The oldest message of %s has waited more than %v: its consumer falls behind.", q.Name, q.AgeAlarm)),
				Metric: main.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
					Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
				}),
				Threshold:          jsii.Number(q.AgeAlarm.Seconds()),
				EvaluationPeriods:  jsii.Number(1),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			})
		}
	}

	resolve := func(e catalog.Env) string {
		switch e.Ref {
		case catalog.EnvTableName:
			return *b.Table.TableName()
		case catalog.EnvStage:
			return props.Stage
		case catalog.EnvTokenSigner, catalog.EnvTokenVerifier:
			return "kms:" + *tokenKey.KeyArn()
		case catalog.EnvQueueURL:
			return *queues[e.Queue].QueueUrl()
		case catalog.EnvDeadLetterQueueURL:
			return *dlqs[e.Queue].QueueUrl()
		case catalog.EnvAllowedPorts:
			return props.AllowedPorts
		case catalog.EnvTokenTTL:
			return "3600"
		case catalog.EnvClientSecretKey:
			return "kms:" + *secretKey.KeyArn()
		case catalog.EnvChannelSecretKey:
			return "kms:" + *channelKey.KeyArn()
		case catalog.EnvChannelEgress:
			return "public"
		case catalog.EnvDeliveryTiming:
			return "1"
		case catalog.EnvDeliveryRate:
			return "20"
		case catalog.EnvMailFrom:
			return "no-reply@" + mailDomain
		case catalog.EnvMailConfigurationSet:
			return *configSet.ConfigurationSetName()
		case catalog.EnvConsoleURL:
			return consoleURL
		case catalog.EnvUsagePlan:
			// By name: the plan is made after the functions (the API's methods need them), so its
			// id in their environment would be a cycle.
			return UsagePlanName(props.Stage)
		}
		panic(fmt.Sprintf("unresolved environment reference %d", e.Ref))
	}

	for _, fn := range props.Catalog.Functions {
		env := map[string]*string{}
		for k, v := range catalog.ResolveEnv(fn, resolve) {
			env[k] = jsii.String(v)
		}
		logs := awslogs.NewLogGroup(st, jsii.String(pascal(fn.Name)+"Logs"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/aws/lambda/cpu-%s-%s", props.Stage, fn.Name)),
			Retention:     awslogs.RetentionDays_ONE_MONTH,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		var reserved *float64
		if fn.ReservedConcurrency > 0 {
			reserved = jsii.Number(float64(fn.ReservedConcurrency))
		}
		f := awslambda.NewFunction(st, jsii.String(pascal(fn.Name)), &awslambda.FunctionProps{
			FunctionName:  jsii.String(fmt.Sprintf("cpu-%s-%s", props.Stage, fn.Name)),
			Description:   jsii.String(fn.Description),
			Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:  awslambda.Architecture_ARM_64(),
			Handler:       jsii.String("bootstrap"),
			Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, fn.Name)), nil),
			MemorySize:    jsii.Number(float64(fn.MemoryMB)),
			Timeout:       awscdk.Duration_Seconds(jsii.Number(fn.Timeout.Seconds())),
			Environment:   &env,
			LoggingFormat: awslambda.LoggingFormat_JSON,
			LogGroup:      logs,
			Tracing:       awslambda.Tracing_ACTIVE,
			// Kept for the function and its ceiling at once (catalog.Function.ReservedConcurrency).
			ReservedConcurrentExecutions: reserved,
		})

		b.Functions[fn.Name] = f
		for _, g := range fn.Grants {
			switch {
			case g.On == catalog.Table && g.Access == catalog.Read && g.KeyPrefix != "":
				// Only items whose partition key starts with the prefix (IAM's LeadingKeys).
				f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"),
					Resources: jsii.Strings(*b.Table.TableArn()),
					Conditions: &map[string]any{
						"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{g.KeyPrefix + "*"}},
					},
				}))
			case g.On == catalog.Table && g.Access == catalog.Read:
				b.Table.GrantReadData(f)
			case g.On == catalog.Table && g.Access == catalog.Write && g.KeyPrefix != "":
				// Only items whose partition key starts with the prefix (IAM's LeadingKeys).
				actions := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
				if g.Batch {
					actions = append(actions, "dynamodb:BatchWriteItem")
				}
				f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings(actions...),
					Resources: jsii.Strings(*b.Table.TableArn()),
					Conditions: &map[string]any{
						"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{g.KeyPrefix + "*"}},
					},
				}))
			case g.On == catalog.Table && g.Access == catalog.Write:
				b.Table.GrantWriteData(f)
			case g.On == catalog.Table && g.Access == catalog.ReadWrite:
				b.Table.GrantReadWriteData(f)
			case g.On == catalog.QueueResource && g.Access == catalog.Send:
				queues[g.Queue].GrantSendMessages(f)
			case g.On == catalog.DeadLetterQueueResource && g.Access == catalog.Send:
				dlqs[g.Queue].GrantSendMessages(f)
			case g.On == catalog.TokenKey && g.Access == catalog.Sign:
				tokenKey.Grant(f, jsii.String("kms:Sign"))
			case g.On == catalog.TokenKey && g.Access == catalog.Verify:
				tokenKey.Grant(f, jsii.String("kms:GetPublicKey"))
			case g.On == catalog.ClientSecretKey && g.Access == catalog.Mac:
				secretKey.Grant(f, jsii.String("kms:GenerateMac"))
			case g.On == catalog.ChannelKey && g.Access == catalog.Seal:
				channelKey.Grant(f, jsii.String("kms:GenerateDataKey"))
			case g.On == catalog.ChannelKey && g.Access == catalog.Open:
				channelKey.Grant(f, jsii.String("kms:Decrypt"))
			case g.On == catalog.UsagePlanKeys && g.Access == catalog.AddKey:
				f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("apigateway:GET", "apigateway:POST"),
					Resources: jsii.Strings(
						fmt.Sprintf("arn:%s:apigateway:%s::/usageplans", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION()),
						fmt.Sprintf("arn:%s:apigateway:%s::/usageplans/*/keys", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION()),
						fmt.Sprintf("arn:%s:apigateway:%s::/apikeys", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION())),
				}))
			case g.On == catalog.Mail && g.Access == catalog.Email:
				// The identity, and the configuration set the message names.
				mailIdentity.GrantSendEmail(f)
				f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings("ses:SendEmail"),
					Resources: jsii.Strings(fmt.Sprintf("arn:%s:ses:%s:%s:configuration-set/%s", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), *configSet.ConfigurationSetName())),
				}))
			default:
				panic(fmt.Sprintf("function %s: unsupported grant %+v", fn.Name, g))
			}
		}
		switch t := fn.Trigger; {
		case t.Queue != nil:
			source := &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(float64(t.Queue.BatchSize)),
				ReportBatchItemFailures: jsii.Bool(true),
			}
			if t.Queue.MaxConcurrency > 0 {
				source.MaxConcurrency = jsii.Number(float64(t.Queue.MaxConcurrency))
			}
			f.AddEventSource(awslambdaeventsources.NewSqsEventSource(queues[t.Queue.Queue], source))
		case t.Stream != nil:
			failures := awssqs.NewQueue(st, jsii.String(pascal(fn.Name)+"StreamFailures"), &awssqs.QueueProps{
				RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
				Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
				EnforceSSL:      jsii.Bool(true),
			})
			alarmOnDLQ(st, pascal(fn.Name)+"StreamFailuresAlarm", failures)
			// A stream consumer that falls behind (or retries one record for hours) shows first as
			// the age of the records it has not read: for the relay, accepted commands not queued.
			awscloudwatch.NewAlarm(st, jsii.String(pascal(fn.Name)+"IteratorAgeAlarm"), &awscloudwatch.AlarmProps{
				AlarmDescription: jsii.String(fn.Name + " is more than a minute behind the table's stream."),
				Metric: f.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
					Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(1)),
				}),
				Threshold:          jsii.Number(60000),
				EvaluationPeriods:  jsii.Number(5),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			})
			var pattern map[string]any
			if err := json.Unmarshal([]byte(t.Stream.Filter), &pattern); err != nil {
				panic(fmt.Sprintf("function %s: stream filter is not JSON: %v", fn.Name, err))
			}
			f.AddEventSource(awslambdaeventsources.NewDynamoEventSource(b.Table, &awslambdaeventsources.DynamoEventSourceProps{
				StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
				BatchSize:               jsii.Number(float64(t.Stream.BatchSize)),
				BisectBatchOnError:      jsii.Bool(true),
				ReportBatchItemFailures: jsii.Bool(true),
				RetryAttempts:           jsii.Number(float64(t.Stream.Retries)),
				OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
				Filters:                 &[]*map[string]any{awslambda.FilterCriteria_Filter(&pattern)},
			}))
		case t.Schedule != nil:
			awsevents.NewRule(st, jsii.String(pascal(fn.Name)+"Schedule"), &awsevents.RuleProps{
				Schedule: awsevents.Schedule_Rate(awscdk.Duration_Seconds(jsii.Number(t.Schedule.Every.Seconds()))),
				Targets:  &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f, nil)},
			})
		}
	}

	b.Api, b.UsagePlan = restAPI(st, props, b.Functions)
	consoleSite(st, props, b.Api, removal)
	awscdk.NewCfnOutput(st, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: b.Api.Url()})
	awscdk.NewCfnOutput(st, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: b.Table.TableName()})
	awscdk.NewCfnOutput(st, jsii.String("UsagePlanId"), &awscdk.CfnOutputProps{Value: b.UsagePlan.UsagePlanId()})
	awscdk.NewCfnOutput(st, jsii.String("ClientSecretKeyArn"), &awscdk.CfnOutputProps{
		Value:       secretKey.KeyArn(),
		Description: jsii.String("cpuadmin --client-secret-key: support staff derive the client-secret hash key from it (kms:GenerateMac)"),
	})
	return b
}

func alarmOnDLQ(st awscdk.Stack, id string, q awssqs.Queue) {
	awscloudwatch.NewAlarm(st, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("Messages are waiting in a dead-letter queue: accepted work failed and needs a look."),
		Metric:             q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1))}),
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

func boolPtrIf(b bool) *bool {
	if b {
		return jsii.Bool(true)
	}
	return nil
}

// pascal turns "entities-search" into "EntitiesSearch" for construct ids.
func pascal(s string) string {
	var out strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		out.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return out.String()
}

// problemTemplate is a gateway response body: the same problem document the local gateway sends,
// with API Gateway's request id as traceId.
func problemTemplate(status int, detail string) string {
	doc := problem.GatewayDocument(status, detail)
	doc["traceId"] = "$context.requestId"
	b, _ := json.Marshal(doc)
	return string(b)
}
