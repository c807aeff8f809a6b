// Package templatetests checks the synthesized CloudFormation of every stage, and of a probe
// catalog that uses every kind of trigger, so that the CDK mapping of the catalog is proven before
// any real queue or stream consumer depends on it.
package templatetests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/portcommunity/cpu/infra/stack"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
)

type template map[string]any

var templates = map[string]template{}

// probeCatalog adds a queue consumer, a stream consumer and a scheduled function to the platform.
func probeCatalog() catalog.Catalog {
	c := catalog.Platform()
	c.Queues = append(c.Queues, catalog.Queue{Name: "probe", FIFO: true, MaxReceives: 5, VisibilityTimeout: 60 * time.Second})
	base := catalog.Function{Env: []catalog.Env{{Name: "TABLE_NAME", Ref: catalog.EnvTableName}, {Name: "STAGE", Ref: catalog.EnvStage}}, Timeout: 10 * time.Second, MemoryMB: 256}
	q, s, sch := base, base, base
	q.Name, q.Trigger = "probe-consumer", catalog.Trigger{Queue: &catalog.QueueTrigger{Queue: "probe", BatchSize: 10}}
	q.Grants = []catalog.Grant{{On: catalog.Table, Access: catalog.ReadWrite}}
	s.Name, s.Trigger = "probe-stream", catalog.Trigger{Stream: &catalog.StreamTrigger{BatchSize: 100, Filter: `{"dynamodb":{"NewImage":{"type":{"S":["Outcome"]}}}}`}}
	s.Grants = []catalog.Grant{{On: catalog.Table, Access: catalog.ReadWrite}}
	sch.Name, sch.Trigger = "probe-schedule", catalog.Trigger{Schedule: &catalog.ScheduleTrigger{Every: 5 * time.Minute}}
	sch.Grants = []catalog.Grant{{On: catalog.Table, Access: catalog.Read}}
	c.Functions = append(c.Functions, q, s, sch)
	return c
}

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	assets, err := os.MkdirTemp("", "cpu-assets-")
	if err != nil {
		panic(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(assets, "cdk.out"))})
	stacks := map[string]*stack.Built{}
	for name, c := range map[string]catalog.Catalog{"staging": catalog.Platform(), "production": catalog.Platform(), "probe": probeCatalog()} {
		for _, fn := range c.Functions {
			os.MkdirAll(filepath.Join(assets, fn.Name), 0o755)
			os.WriteFile(filepath.Join(assets, fn.Name, "bootstrap"), []byte("test asset"), 0o755)
		}
		stacks[name] = stack.New(app, "cpu-"+name, stack.Props{Stage: name, Catalog: c, AssetDir: assets, AllowedPorts: "BEANR"})
	}
	for name, b := range stacks {
		raw, _ := json.Marshal(assertions.Template_FromStack(b.Stack, nil).ToJSON())
		var t template
		json.Unmarshal(raw, &t)
		templates[name] = t
	}
	code := m.Run()
	jsii.Close()
	os.RemoveAll(assets)
	os.Exit(code)
}

func (t template) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range t["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

func (t template) resource(id string) map[string]any {
	return t["Resources"].(map[string]any)[id].(map[string]any)
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func one(t *testing.T, tpl template, typ string) map[string]any {
	t.Helper()
	rs := tpl.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s, got %d", typ, len(rs))
	}
	for _, p := range rs {
		return p
	}
	return nil
}

func TestTable(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		p := one(t, templates[stage], "AWS::DynamoDB::Table")
		want := map[string]string{
			"BillingMode":                      `"PAY_PER_REQUEST"`,
			"PointInTimeRecoverySpecification": `{"PointInTimeRecoveryEnabled":true}`,
			"StreamSpecification":              `{"StreamViewType":"NEW_AND_OLD_IMAGES"}`,
			"TimeToLiveSpecification":          `{"AttributeName":"` + catalog.SingleTable.TTLAttribute + `","Enabled":true}`,
			"TableName":                        `"cpu-` + stage + `"`,
		}
		for k, v := range want {
			if js(p[k]) != v {
				t.Errorf("%s table %s = %s, want %s", stage, k, js(p[k]), v)
			}
		}
		if !strings.Contains(js(p["GlobalSecondaryIndexes"]), `"IndexName":"gsi1"`) || !strings.Contains(js(p["KeySchema"]), `"AttributeName":"pk"`) {
			t.Errorf("%s keys/indexes: %s %s", stage, js(p["KeySchema"]), js(p["GlobalSecondaryIndexes"]))
		}
	}
	if js(one(t, templates["production"], "AWS::DynamoDB::Table")["DeletionProtectionEnabled"]) != "true" {
		t.Error("production table lacks deletion protection")
	}
	for id := range templates["production"].resources("AWS::DynamoDB::Table") {
		if templates["production"].resource(id)["DeletionPolicy"] != "Retain" {
			t.Error("production table is not retained")
		}
	}
}

// TestLocalTableMatches: the local stack creates the table from the same schema (and the probe
// proves the catalog's names reach both).
func TestLocalTableMatches(t *testing.T) {
	if localstack.TableName("staging") != "cpu-staging" {
		t.Fatal("local and CDK table names drifted")
	}
}

func TestFunctions(t *testing.T) {
	for _, stage := range []string{"staging", "production", "probe"} {
		fns := templates[stage].resources("AWS::Lambda::Function")
		c := catalog.Platform()
		if stage == "probe" {
			c = probeCatalog()
		}
		if len(fns) != len(c.Functions) {
			t.Errorf("%s: %d functions, catalog has %d", stage, len(fns), len(c.Functions))
		}
		for id, p := range fns {
			if p["Runtime"] != "provided.al2023" || js(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" {
				t.Errorf("%s %s: runtime %v %v %v", stage, id, p["Runtime"], p["Architectures"], p["Handler"])
			}
			if js(p["LoggingConfig"]) == "null" || !strings.Contains(js(p["LoggingConfig"]), `"LogFormat":"JSON"`) {
				t.Errorf("%s %s: logging %s", stage, id, js(p["LoggingConfig"]))
			}
			if !strings.Contains(js(p["Environment"]), `"STAGE":"`+stage+`"`) {
				t.Errorf("%s %s: no stage in environment", stage, id)
			}
		}
	}
}

func TestNoSecretsInTemplates(t *testing.T) {
	seed, err := localstack.ReadSeed(filepath.Join("..", "events", "local", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	for stage, tpl := range templates {
		raw := js(tpl)
		for _, bad := range []string{"PRIVATE KEY", "pem:", "clientSecret", "secretHash"} {
			if strings.Contains(raw, bad) {
				t.Errorf("%s template contains %q", stage, bad)
			}
		}
		for _, e := range seed.Entities {
			if strings.Contains(raw, e.Credentials.ClientSecret) || strings.Contains(raw, e.Credentials.SubscriptionKey) {
				t.Errorf("%s template contains demo credentials", stage)
			}
		}
	}
	key := one(t, templates["staging"], "AWS::KMS::Key")
	if key["KeySpec"] != "ECC_NIST_P256" || key["KeyUsage"] != "SIGN_VERIFY" {
		t.Errorf("token key: %v %v", key["KeySpec"], key["KeyUsage"])
	}
}

// policyOf returns the actions granted to a function's role, joined.
func policyOf(t *testing.T, tpl template, fnName string) string {
	t.Helper()
	var role string
	for _, p := range tpl.resources("AWS::Lambda::Function") {
		if strings.HasSuffix(fmt.Sprint(p["FunctionName"]), "-"+fnName) {
			role = js(p["Role"])
		}
	}
	var actions []string
	for _, p := range tpl.resources("AWS::IAM::Policy") {
		if strings.Contains(js(p["Roles"]), strings.TrimSuffix(strings.TrimPrefix(role, `{"Fn::GetAtt":[`), `,"Arn"]}`)) {
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				actions = append(actions, js(st.(map[string]any)["Action"]))
			}
		}
	}
	return strings.Join(actions, " ")
}

func TestLeastPrivilege(t *testing.T) {
	tpl := templates["staging"]
	reg := policyOf(t, tpl, "registry-search")
	if !strings.Contains(reg, "dynamodb:Query") || strings.Contains(reg, "dynamodb:PutItem") || strings.Contains(reg, "kms:") {
		t.Errorf("registry-search may: %s", reg)
	}
	tok := policyOf(t, tpl, "oauth-token")
	if !strings.Contains(tok, "kms:Sign") || strings.Contains(tok, "kms:Decrypt") || strings.Contains(tok, "dynamodb:PutItem") {
		t.Errorf("oauth-token may: %s", tok)
	}
	az := policyOf(t, tpl, "authorizer")
	if !strings.Contains(az, "kms:GetPublicKey") || strings.Contains(az, "kms:Sign") || strings.Contains(az, "dynamodb:PutItem") {
		t.Errorf("authorizer may: %s", az)
	}
	for _, p := range tpl.resources("AWS::IAM::Policy") {
		if strings.Contains(js(p), `"Action":"*"`) {
			t.Errorf("a policy grants every action: %s", js(p))
		}
	}
}

func TestRestAPI(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		tpl := templates[stage]
		if api := one(t, tpl, "AWS::ApiGateway::RestApi"); api["ApiKeySourceType"] != "AUTHORIZER" {
			t.Errorf("%s: key source %v", stage, api["ApiKeySourceType"])
		}
		if st := one(t, tpl, "AWS::ApiGateway::Stage"); st["StageName"] != stage {
			t.Errorf("stage name %v", st["StageName"])
		}
		plan := one(t, tpl, "AWS::ApiGateway::UsagePlan")
		th := plan["Throttle"].(map[string]any)
		if th["BurstLimit"] != 500.0 || fmt.Sprintf("%.2f", th["RateLimit"]) != "8.33" {
			t.Errorf("%s usage plan throttle %v", stage, th)
		}
		az := one(t, tpl, "AWS::ApiGateway::Authorizer")
		if az["Type"] != "REQUEST" || az["IdentitySource"] != "method.request.header.Authorization,method.request.header.Ocp-Apim-Subscription-Key" {
			t.Errorf("%s authorizer %v %v", stage, az["Type"], az["IdentitySource"])
		}
		methods := map[string]map[string]any{}
		for _, m := range tpl.resources("AWS::ApiGateway::Method") {
			methods[fmt.Sprint(m["HttpMethod"])+" "+js(m["ResourceId"])] = m
		}
		var get, post, anyCount int
		for k, m := range methods {
			switch {
			case strings.HasPrefix(k, "GET"):
				get++
				if m["AuthorizationType"] != "CUSTOM" || m["ApiKeyRequired"] != true {
					t.Errorf("%s GET is not behind the authorizer and usage plan: %v", stage, js(m))
				}
			case strings.HasPrefix(k, "POST"):
				post++
				if m["AuthorizationType"] != "NONE" {
					t.Errorf("%s token endpoint needs no authorizer: %v", stage, m["AuthorizationType"])
				}
			case strings.HasPrefix(k, "ANY"):
				anyCount++
				if !strings.Contains(js(m), `"StatusCode":"405"`) {
					t.Errorf("%s ANY is not a 405: %s", stage, js(m))
				}
			}
		}
		if get != 1 || post != 1 || anyCount != 2 {
			t.Errorf("%s methods: GET %d POST %d ANY %d", stage, get, post, anyCount)
		}
		responses := map[string]map[string]any{}
		for _, r := range tpl.resources("AWS::ApiGateway::GatewayResponse") {
			responses[fmt.Sprint(r["ResponseType"])] = r
		}
		for _, gr := range catalog.GatewayResponses {
			r, ok := responses[gr.Type]
			if !ok || r["StatusCode"] != fmt.Sprint(gr.Status) || !strings.Contains(js(r["ResponseParameters"]), "application/problem+json") {
				t.Errorf("%s gateway response %s: %s", stage, gr.Type, js(r))
			}
		}
		if !strings.Contains(js(responses["THROTTLED"]["ResponseParameters"]), "Retry-After") {
			t.Errorf("%s 429 lacks Retry-After", stage)
		}
		if responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] != "404" {
			t.Errorf("%s unknown routes do not answer 404", stage)
		}
	}
}

func TestQueuesStreamsAndSchedules(t *testing.T) {
	tpl := templates["probe"]
	queues := tpl.resources("AWS::SQS::Queue")
	var main map[string]any
	dlqs := 0
	for _, q := range queues {
		if strings.Contains(fmt.Sprint(q["QueueName"]), "probe.fifo") && !strings.Contains(fmt.Sprint(q["QueueName"]), "dlq") {
			main = q
		}
		if strings.Contains(fmt.Sprint(q["QueueName"]), "dlq") {
			dlqs++
		}
	}
	if main == nil || main["FifoQueue"] != true || !strings.Contains(js(main["RedrivePolicy"]), `"maxReceiveCount":5`) || main["VisibilityTimeout"] != 60.0 {
		t.Fatalf("probe queue: %s", js(main))
	}
	// Every DLQ, and the stream's failure destination, has an alarm.
	alarms := tpl.resources("AWS::CloudWatch::Alarm")
	if dlqs != 1 || len(alarms) != 2 {
		t.Errorf("%d DLQs, %d alarms", dlqs, len(alarms))
	}
	for _, a := range alarms {
		if a["MetricName"] != "ApproximateNumberOfMessagesVisible" || a["ComparisonOperator"] != "GreaterThanThreshold" {
			t.Errorf("alarm %s", js(a))
		}
	}
	var sqsESM, streamESM map[string]any
	for _, m := range tpl.resources("AWS::Lambda::EventSourceMapping") {
		if strings.Contains(js(m["EventSourceArn"]), "StreamArn") {
			streamESM = m
		} else {
			sqsESM = m
		}
	}
	if js(sqsESM["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || sqsESM["BatchSize"] != 10.0 {
		t.Errorf("sqs mapping %s", js(sqsESM))
	}
	if js(streamESM["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || streamESM["BisectBatchOnFunctionError"] != true ||
		!strings.Contains(js(streamESM["DestinationConfig"]), "OnFailure") || !strings.Contains(js(streamESM["FilterCriteria"]), `Outcome`) {
		t.Errorf("stream mapping %s", js(streamESM))
	}
	rules := tpl.resources("AWS::Events::Rule")
	if len(rules) != 1 || js(rules[func() string {
		for k := range rules {
			return k
		}
		return ""
	}()]["ScheduleExpression"]) != `"rate(5 minutes)"` {
		t.Errorf("schedule %s", js(rules))
	}
}
