// Package templatetests checks the synthesized CloudFormation of every stage against the catalog
// it is built from (shared/catalog): table, functions, grants, API, usage plan, queues, stream and
// schedule.
package templatetests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/portcommunity/cpu/infra/stack"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/localstack"
)

type template map[string]any

var templates = map[string]template{}

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	assets, err := os.MkdirTemp("", "cpu-assets-")
	if err != nil {
		panic(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(assets, "cdk.out"))})
	stacks := map[string]*stack.Built{}
	for _, name := range []string{"staging", "production"} {
		c := catalog.Platform()
		for _, fn := range c.Functions {
			os.MkdirAll(filepath.Join(assets, fn.Name), 0o755)
			os.WriteFile(filepath.Join(assets, fn.Name, "bootstrap"), []byte("test asset"), 0o755)
		}
		stacks[name] = stack.New(app, "cpu-"+name, stack.Props{Stage: name, Catalog: c, AssetDir: assets, AllowedPorts: "BEANR", ConsoleDir: filepath.Join("..", "shared", "console", "static")})
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
		if !strings.Contains(js(p["KeySchema"]), `"AttributeName":"pk"`) {
			t.Errorf("%s keys: %s", stage, js(p["KeySchema"]))
		}
		// Every index of the catalog, with its projection: the notification indexes copy only
		// the attributes E7 filters on.
		indexes := map[string]map[string]any{}
		for _, ix := range p["GlobalSecondaryIndexes"].([]any) {
			m := ix.(map[string]any)
			indexes[m["IndexName"].(string)] = m
		}
		for _, ix := range catalog.SingleTable.Indexes {
			got := indexes[ix.Name]
			want := `{"ProjectionType":"ALL"}`
			if ix.Projection == catalog.ProjectInclude {
				want = `{"NonKeyAttributes":` + js(ix.Include) + `,"ProjectionType":"INCLUDE"}`
			}
			if got == nil || js(got["Projection"]) != want || !strings.Contains(js(got["KeySchema"]), `"AttributeName":"`+ix.PartitionKey+`"`) {
				t.Errorf("%s index %s: %s", stage, ix.Name, js(got))
			}
		}
		if len(indexes) != len(catalog.SingleTable.Indexes) {
			t.Errorf("%s: %d indexes, the catalog has %d", stage, len(indexes), len(catalog.SingleTable.Indexes))
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
	for _, stage := range []string{"staging", "production"} {
		fns := map[string]map[string]any{}
		for id, p := range templates[stage].resources("AWS::Lambda::Function") {
			if strings.HasPrefix(fmt.Sprint(p["FunctionName"]), "cpu-"+stage+"-") {
				fns[id] = p // the platform's; CDK adds its own for the console's upload
			}
		}
		c := catalog.Platform()
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
		for _, bad := range []string{"PRIVATE KEY", "pem:", "local:", "clientSecret", "secretHash", "hmac-sha256:"} {
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
	// Three KMS keys: the token signing key, the HMAC key the client-secret hash key is derived
	// from, and the symmetric key (rotated yearly) that seals channel secrets. None leaves KMS; the
	// functions are told their ARNs, never key material.
	specs := map[string]string{}
	for _, k := range templates["staging"].resources("AWS::KMS::Key") {
		spec := fmt.Sprint(k["KeySpec"])
		if k["KeySpec"] == nil {
			spec = "SYMMETRIC_DEFAULT"
			if k["EnableKeyRotation"] != true {
				t.Errorf("the channel-secret key is not rotated: %s", js(k))
			}
		}
		specs[spec] = fmt.Sprint(k["KeyUsage"])
	}
	if len(specs) != 3 || specs["ECC_NIST_P256"] != "SIGN_VERIFY" || specs["HMAC_256"] != "GENERATE_VERIFY_MAC" || specs["SYMMETRIC_DEFAULT"] == "" {
		t.Errorf("KMS keys: %v", specs)
	}
	for _, fn := range []string{"channel-create", "webhook-deliverer"} {
		env := js(functionProps(t, templates["staging"], fn)["Environment"])
		if !regexp.MustCompile(`"CHANNEL_SECRET_KEY":\{"Fn::Join":\["",\["kms:",\{"Fn::GetAtt":\["ChannelSecretKey[0-9A-F]{8}","Arn"\]\}\]\]\}`).MatchString(env) ||
			!strings.Contains(env, `"CHANNEL_EGRESS":"public"`) {
			t.Errorf("%s: the channel key and the public egress policy are not its settings: %s", fn, env)
		}
		if fn == "webhook-deliverer" && (!strings.Contains(env, `"DELIVERY_TIMING_SCALE":"1"`) || !strings.Contains(env, `"DELIVERY_RATE_PER_SECOND":"20"`)) {
			t.Errorf("a stage delivers on a changed schedule or cap: %s", env)
		}
	}
	env := js(functionProps(t, templates["staging"], "oauth-token")["Environment"])
	if !regexp.MustCompile(`"CLIENT_SECRET_KEY":\{"Fn::Join":\["",\["kms:",\{"Fn::GetAtt":\["ClientSecretKey[0-9A-F]{8}","Arn"\]\}\]\]\}`).MatchString(env) {
		t.Errorf("oauth-token's CLIENT_SECRET_KEY is not the HMAC key's ARN: %s", env)
	}
	out, ok := templates["staging"]["Outputs"].(map[string]any)["ClientSecretKeyArn"]
	if !ok || !strings.Contains(js(out), "ClientSecretKey") {
		t.Errorf("no ClientSecretKeyArn output for the support tooling: %s", js(out))
	}
}

// functionProps returns the properties of a catalog function's Lambda.
func functionProps(t *testing.T, tpl template, fnName string) map[string]any {
	t.Helper()
	for _, p := range tpl.resources("AWS::Lambda::Function") {
		// Exactly the function: cpu-<stage>-<name> (channel-deliveries is not console-channel-deliveries).
		if name := fmt.Sprint(p["FunctionName"]); name == "cpu-staging-"+fnName || name == "cpu-production-"+fnName {
			return p
		}
	}
	t.Fatalf("no function %s", fnName)
	return nil
}

// policyOf returns the actions granted to a function's role, joined.
func policyOf(t *testing.T, tpl template, fnName string) string {
	t.Helper()
	var actions []string
	for _, st := range statementsOf(t, tpl, fnName) {
		actions = append(actions, js(st["Action"]))
	}
	return strings.Join(actions, " ")
}

// statementsOf returns the policy statements of a function's role.
func statementsOf(t *testing.T, tpl template, fnName string) []map[string]any {
	t.Helper()
	role := js(functionProps(t, tpl, fnName)["Role"])
	var out []map[string]any
	for _, p := range tpl.resources("AWS::IAM::Policy") {
		if strings.Contains(js(p["Roles"]), strings.TrimSuffix(strings.TrimPrefix(role, `{"Fn::GetAtt":[`), `,"Arn"]}`)) {
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				out = append(out, st.(map[string]any))
			}
		}
	}
	return out
}

func TestLeastPrivilege(t *testing.T) {
	tpl := templates["staging"]
	reg := policyOf(t, tpl, "entities-search")
	if !strings.Contains(reg, "dynamodb:Query") || strings.Contains(reg, "dynamodb:PutItem") || strings.Contains(reg, "kms:") {
		t.Errorf("entities-search may: %s", reg)
	}
	tok := policyOf(t, tpl, "oauth-token")
	if !strings.Contains(tok, "kms:Sign") || !strings.Contains(tok, "kms:GenerateMac") || strings.Contains(tok, "kms:Decrypt") ||
		strings.Contains(tok, "dynamodb:BatchWriteItem") {
		t.Errorf("oauth-token may: %s", tok)
	}
	for _, st := range statementsOf(t, tpl, "oauth-token") {
		if a := js(st["Action"]); strings.Contains(a, "kms:GenerateMac") && !strings.Contains(js(st["Resource"]), "ClientSecretKey") {
			t.Errorf("oauth-token may GenerateMac on another key: %s", js(st))
		}
	}
	// A function whose table writes the catalog limits to a key prefix (the token function's
	// failed-authentication records, the acceptances of E1, E3 and E4) may write nothing else:
	// every write statement it has carries the prefix as IAM's LeadingKeys.
	for _, fn := range catalog.Platform().Functions {
		prefixes := map[string]bool{}
		for _, g := range fn.Grants {
			if g.On == catalog.Table && g.KeyPrefix != "" {
				prefixes[`{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["`+g.KeyPrefix+`*"]}}`] = true
			}
		}
		if len(prefixes) == 0 {
			continue
		}
		for _, st := range statementsOf(t, tpl, fn.Name) {
			a := js(st["Action"])
			if strings.Contains(a, "dynamodb:PutItem") || strings.Contains(a, "dynamodb:UpdateItem") || strings.Contains(a, "dynamodb:DeleteItem") || strings.Contains(a, "dynamodb:BatchWriteItem") {
				if !prefixes[js(st["Condition"])] {
					t.Errorf("%s may write beyond its own items: %s", fn.Name, js(st))
				}
			}
		}
	}
	// Channel secrets: the endpoints that take them may only seal (GenerateDataKey), the senders
	// open them (Decrypt) and seal tokens, on the channel key alone; the command consumer seals
	// the pick-up PINs that E7 (and the deliverer) open; the marketplace seals subscription keys
	// and opens them for admins; the others may do neither.
	for _, fn := range catalog.Platform().Functions {
		var want []string
		switch fn.Name {
		case "channel-create", "channel-replace", "channel-rotate-secret", "command-consumer", "subscription-create", "subscription-decide":
			want = []string{"kms:GenerateDataKey"}
		case "subscription-keys":
			want = []string{"kms:Decrypt"}
		case "subscription-regenerate":
			// It seals the new key and opens both for the answer.
			want = []string{"kms:Decrypt", "kms:GenerateDataKey"}
		case "notifications-list":
			want = []string{"kms:Decrypt"}
		case "channel-test", "webhook-deliverer":
			// They open secrets, and seal the bearer tokens they fetch from receivers.
			want = []string{"kms:Decrypt", "kms:GenerateDataKey"}
		}
		pol := policyOf(t, tpl, fn.Name)
		for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"} {
			has, wanted := strings.Contains(pol, `"`+action+`"`), slices.Contains(want, action)
			if has != wanted {
				t.Errorf("%s: %s allowed %v, want %v", fn.Name, action, has, wanted)
			}
		}
		for _, st := range statementsOf(t, tpl, fn.Name) {
			if a := js(st["Action"]); (strings.Contains(a, "kms:GenerateDataKey") || strings.Contains(a, "kms:Decrypt")) && !strings.Contains(js(st["Resource"]), "ChannelSecretKey") {
				t.Errorf("%s may use another key for channel secrets: %s", fn.Name, js(st))
			}
		}
	}
	// The deliverer talks to addresses its users choose: it reads channels and notifications only.
	for _, st := range statementsOf(t, tpl, "webhook-deliverer") {
		a := js(st["Action"])
		if strings.Contains(a, "dynamodb:GetItem") || strings.Contains(a, "dynamodb:Query") || strings.Contains(a, "dynamodb:Scan") {
			if c := js(st["Condition"]); c != `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["CHAN#*"]}}` && c != `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTIF#*"]}}` {
				t.Errorf("webhook-deliverer may read beyond channels and notifications: %s", js(st))
			}
		}
	}
	for _, name := range []string{"channel-list", "channel-read", "channel-deliveries"} {
		pol := policyOf(t, tpl, name)
		for _, w := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "sqs:SendMessage", "kms:"} {
			if strings.Contains(pol, w) {
				t.Errorf("%s may %s: %s", name, w, pol)
			}
		}
	}
	// Only the token function may derive the client-secret key.
	for _, fn := range catalog.Platform().Functions {
		if fn.Name != "oauth-token" && strings.Contains(policyOf(t, tpl, fn.Name), "kms:GenerateMac") {
			t.Errorf("%s may derive the client-secret key", fn.Name)
		}
	}
	az := policyOf(t, tpl, "authorizer")
	if !strings.Contains(az, "kms:GetPublicKey") || strings.Contains(az, "kms:Sign") || strings.Contains(az, "dynamodb:PutItem") {
		t.Errorf("authorizer may: %s", az)
	}
	ing := policyOf(t, tpl, "release-ingest")
	if !strings.Contains(ing, "sqs:SendMessage") || strings.Contains(ing, "dynamodb:BatchWriteItem") {
		t.Errorf("release-ingest may: %s", ing)
	}
	cons := policyOf(t, tpl, "command-consumer")
	// A transaction is authorized per item action (IAM has no TransactWriteItems action).
	if !strings.Contains(cons, "dynamodb:PutItem") || !strings.Contains(cons, "dynamodb:ConditionCheckItem") || !strings.Contains(cons, "sqs:DeleteMessage") {
		t.Errorf("command-consumer may: %s", cons)
	}
	// The consumer sends only to the command queue's DLQ (to park what it gives up on), never to
	// the command queue itself.
	for _, st := range statementsOf(t, tpl, "command-consumer") {
		if strings.Contains(js(st["Action"]), "sqs:SendMessage") && !strings.Contains(js(st["Resource"]), "CommandsDlq") {
			t.Errorf("command-consumer may send to %s", js(st["Resource"]))
		}
	}
	e7 := policyOf(t, tpl, "notifications-list")
	if !strings.Contains(e7, "dynamodb:Query") || strings.Contains(e7, "dynamodb:PutItem") || strings.Contains(e7, "sqs:") {
		t.Errorf("notifications-list may: %s", e7)
	}
	nt := policyOf(t, tpl, "notification-stream")
	if !strings.Contains(nt, "dynamodb:BatchWriteItem") || !strings.Contains(nt, "dynamodb:GetRecords") || !strings.Contains(nt, "sqs:SendMessage") {
		t.Errorf("notification-stream may: %s", nt)
	}
	// DynamoDB Streams serves at most two readers a shard without throttling.
	readers := 0
	for _, fn := range catalog.Platform().Functions {
		if fn.Trigger.Stream != nil {
			readers++
		}
	}
	if readers > 2 {
		t.Errorf("%d functions read the table's stream; at most 2 may", readers)
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
		// Two REQUEST authorizers of the one function: cached on (token, key) where the key is
		// required, uncached on the token alone where it is optional.
		authorizers := map[string]string{}
		for id, a := range tpl.resources("AWS::ApiGateway::Authorizer") {
			if a["Type"] != "REQUEST" {
				t.Errorf("%s authorizer %s is %v", stage, id, a["Type"])
			}
			authorizers[id] = fmt.Sprint(a["IdentitySource"]) + " ttl=" + fmt.Sprint(a["AuthorizerResultTtlInSeconds"])
		}
		var keyed, tokenOnly string
		for id, a := range authorizers {
			switch a {
			case "method.request.header.Authorization,method.request.header.Ocp-Apim-Subscription-Key ttl=300":
				keyed = id
			case "method.request.header.Authorization ttl=0":
				tokenOnly = id
			}
		}
		if keyed == "" || tokenOnly == "" {
			t.Errorf("%s authorizers %v", stage, authorizers)
		}
		// Every catalog route is a method with the right protection; every served path answers 405
		// to other methods.
		byMethod := map[string][]map[string]any{}
		for _, m := range tpl.resources("AWS::ApiGateway::Method") {
			byMethod[fmt.Sprint(m["HttpMethod"])] = append(byMethod[fmt.Sprint(m["HttpMethod"])], m)
		}
		paths := map[string]bool{}
		routes := 0
		for _, fn := range catalog.Platform().Functions {
			r := fn.Trigger.Route
			if r == nil {
				continue
			}
			routes++
			paths[r.Path] = true
			var found bool
			for _, m := range byMethod[r.Method] {
				if !refersTo(m["Integration"], fn.Name) {
					continue
				}
				found = true
				auth := fmt.Sprint(m["AuthorizationType"], " ", m["ApiKeyRequired"], " ", js(m["AuthorizerId"]))
				switch r.Auth {
				case catalog.Public:
					if m["AuthorizationType"] != "NONE" {
						t.Errorf("%s %s %s: %s", stage, r.Method, r.Path, auth)
					}
				case catalog.TokenAndKey:
					if m["AuthorizationType"] != "CUSTOM" || m["ApiKeyRequired"] != true || !strings.Contains(js(m["AuthorizerId"]), keyed) {
						t.Errorf("%s %s %s: %s", stage, r.Method, r.Path, auth)
					}
				case catalog.TokenOptionalKey:
					if m["AuthorizationType"] != "CUSTOM" || m["ApiKeyRequired"] != true || !strings.Contains(js(m["AuthorizerId"]), tokenOnly) {
						t.Errorf("%s %s %s: %s", stage, r.Method, r.Path, auth)
					}
				}
			}
			if !found {
				t.Errorf("%s: no method for %s %s", stage, r.Method, r.Path)
			}
		}
		if n := len(byMethod["ANY"]); n != len(paths) {
			t.Errorf("%s: %d ANY methods for %d paths", stage, n, len(paths))
		}
		for _, m := range byMethod["ANY"] {
			if !strings.Contains(js(m), `"StatusCode":"405"`) {
				t.Errorf("%s ANY is not a 405: %s", stage, js(m))
			}
		}
		if got := len(byMethod["GET"]) + len(byMethod["POST"]) + len(byMethod["PUT"]) + len(byMethod["DELETE"]); got != routes {
			t.Errorf("%s: %d methods for %d routes", stage, got, routes)
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
		for _, gr := range catalog.GatewayResponses {
			for h := range gr.Headers {
				if !strings.Contains(js(responses[gr.Type]["ResponseParameters"]), h) {
					t.Errorf("%s gateway response %s lacks %s", stage, gr.Type, h)
				}
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

// TestThrottles: every route the catalog throttles has the same limits as a stage method setting,
// and every function with reserved concurrency has it in its template; nothing else is limited.
func TestThrottles(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		tpl := templates[stage]
		settings := map[string]map[string]any{}
		for _, ms := range one(t, tpl, "AWS::ApiGateway::Stage")["MethodSettings"].([]any) {
			m := ms.(map[string]any)
			settings[fmt.Sprint(m["ResourcePath"], " ", m["HttpMethod"])] = m
		}
		throttled := 0
		for _, fn := range catalog.Platform().Functions {
			if r := fn.Trigger.Route; r != nil && r.Throttle != nil {
				throttled++
				// A method setting names its resource as "/" + the path with its slashes escaped as ~1.
				m := settings["/"+strings.ReplaceAll(r.Path, "/", "~1")+" "+r.Method]
				if m == nil || m["ThrottlingRateLimit"] != r.Throttle.RatePerSecond || m["ThrottlingBurstLimit"] != float64(r.Throttle.Burst) {
					t.Errorf("%s %s %s: method setting %s, want %+v (settings %s)", stage, r.Method, r.Path, js(m), *r.Throttle, js(settings))
				}
			}
			got := functionProps(t, tpl, fn.Name)["ReservedConcurrentExecutions"]
			if (fn.ReservedConcurrency == 0 && got != nil) || (fn.ReservedConcurrency > 0 && got != float64(fn.ReservedConcurrency)) {
				t.Errorf("%s %s: reserved concurrency %v, catalog %d", stage, fn.Name, got, fn.ReservedConcurrency)
			}
		}
		withThrottle := 0
		for _, m := range settings {
			if m["ThrottlingRateLimit"] != nil {
				withThrottle++
			}
		}
		if throttled == 0 || withThrottle != throttled {
			t.Errorf("%s: %d throttled routes in the catalog, %d method settings with a throttle", stage, throttled, withThrottle)
		}
	}
	tok, _ := catalog.Lookup("oauth-token")
	if th := tok.Trigger.Route.Throttle; th == nil || th.RatePerSecond != 25 || th.Burst != 50 || tok.ReservedConcurrency != 10 {
		t.Errorf("token endpoint limits: %+v, reserved %d", th, tok.ReservedConcurrency)
	}
}

// refersTo tells whether a template value references the function's logical id (its construct id
// followed by CDK's 8-character hash), and not another function whose name starts the same.
func refersTo(v any, fn string) bool {
	return regexp.MustCompile(`"` + pascalName(fn) + `[0-9A-F]{8}"`).MatchString(js(v))
}

// pascalName is the construct id prefix of a function ("command-consumer" → "CommandConsumer").
func pascalName(s string) string {
	out := ""
	for _, p := range strings.Split(s, "-") {
		out += strings.ToUpper(p[:1]) + p[1:]
	}
	return out
}

func TestQueuesStreamsAndSchedules(t *testing.T) {
	tpl := templates["staging"]
	c := catalog.Platform()
	queues := tpl.resources("AWS::SQS::Queue")
	byName := map[string]map[string]any{}
	for _, q := range queues {
		byName[fmt.Sprint(q["QueueName"])] = q
	}
	for _, q := range c.Queues {
		main := byName["cpu-staging-"+q.PhysicalName()]
		dlq := byName["cpu-staging-"+q.DLQName()]
		if main == nil || dlq == nil {
			t.Fatalf("queue %s or its DLQ missing: %v", q.Name, byName)
		}
		if (main["FifoQueue"] == true) != q.FIFO || !strings.Contains(js(main["RedrivePolicy"]), fmt.Sprintf(`"maxReceiveCount":%d`, q.MaxReceives)) ||
			main["VisibilityTimeout"] != q.VisibilityTimeout.Seconds() {
			t.Errorf("queue %s: %s", q.Name, js(main))
		}
		if q.HighThroughput && (main["DeduplicationScope"] != "messageGroup" || main["FifoThroughputLimit"] != "perMessageGroupId") {
			t.Errorf("queue %s is not in FIFO high-throughput mode: %s", q.Name, js(main))
		}
	}
	// Every DLQ, and every stream consumer's failure destination, has an alarm.
	streams := 0
	for _, fn := range c.Functions {
		if fn.Trigger.Stream != nil {
			streams++
		}
	}
	aged := 0
	for _, q := range c.Queues {
		if q.AgeAlarm > 0 {
			aged++
		}
		retention := float64(4 * 24 * 3600)
		if q.RetentionDays > 0 {
			retention = float64(q.RetentionDays * 24 * 3600)
		}
		if main := byName["cpu-staging-"+q.PhysicalName()]; main["MessageRetentionPeriod"] != retention {
			t.Errorf("queue %s keeps messages %v s, want %v", q.Name, main["MessageRetentionPeriod"], retention)
		}
	}
	alarms := tpl.resources("AWS::CloudWatch::Alarm")
	if len(alarms) != len(c.Queues)+aged+2*streams || len(queues) != 2*len(c.Queues)+streams {
		t.Errorf("%d queues, %d alarms for %d queues (%d with an age alarm) and %d stream consumers", len(queues), len(alarms), len(c.Queues), aged, streams)
	}
	ages := 0
	for _, a := range alarms {
		switch {
		case a["MetricName"] == "IteratorAge" && a["Namespace"] == "AWS/Lambda":
			ages++
		case a["MetricName"] == "ApproximateAgeOfOldestMessage" && a["Namespace"] == "AWS/SQS":
		case a["MetricName"] != "ApproximateNumberOfMessagesVisible" || a["ComparisonOperator"] != "GreaterThanThreshold":
			t.Errorf("alarm %s", js(a))
		}
	}
	if ages != streams {
		t.Errorf("%d iterator-age alarms for %d stream consumers", ages, streams)
	}
	mappings := tpl.resources("AWS::Lambda::EventSourceMapping")
	for _, fn := range c.Functions {
		var m map[string]any
		for _, x := range mappings {
			if refersTo(x["FunctionName"], fn.Name) {
				m = x
			}
		}
		switch t2 := fn.Trigger; {
		case t2.Queue != nil:
			if js(m["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || m["BatchSize"] != float64(t2.Queue.BatchSize) {
				t.Errorf("%s queue mapping %s", fn.Name, js(m))
			}
			if c := t2.Queue.MaxConcurrency; c > 0 && !strings.Contains(js(m["ScalingConfig"]), fmt.Sprintf(`"MaximumConcurrency":%d`, c)) {
				t.Errorf("%s queue mapping without its maximum concurrency %d: %s", fn.Name, c, js(m))
			}
		case t2.Stream != nil:
			var pattern map[string]any
			json.Unmarshal([]byte(t2.Stream.Filter), &pattern)
			if js(m["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || m["BisectBatchOnFunctionError"] != true ||
				!strings.Contains(js(m["DestinationConfig"]), "OnFailure") || !strings.Contains(js(m["FilterCriteria"]), `itemType`) ||
				m["StartingPosition"] != "TRIM_HORIZON" {
				t.Errorf("%s stream mapping %s", fn.Name, js(m))
			}
		case t2.Schedule != nil:
			found := false
			for _, r := range tpl.resources("AWS::Events::Rule") {
				if refersTo(r["Targets"], fn.Name) && r["ScheduleExpression"] == "rate(1 minute)" {
					found = true
				}
			}
			if !found {
				t.Errorf("%s has no schedule", fn.Name)
			}
		default:
			if m != nil {
				t.Errorf("%s has an unexpected event source mapping", fn.Name)
			}
		}
	}
}

// TestConsoleHosting: the console's files sit in a private bucket that CloudFront alone reads
// (origin access control), over HTTPS with security headers, and the onboarding API is behind the
// same distribution, never cached, so the console calls its own origin.
func TestConsoleHosting(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		tpl := templates[stage]
		for _, b := range tpl.resources("AWS::S3::Bucket") {
			if pab := js(b["PublicAccessBlockConfiguration"]); !strings.Contains(pab, `"BlockPublicAcls":true`) || !strings.Contains(pab, `"RestrictPublicBuckets":true`) {
				t.Errorf("%s: a bucket is not private: %s", stage, pab)
			}
		}
		if len(tpl.resources("AWS::CloudFront::OriginAccessControl")) != 1 {
			t.Errorf("%s: no origin access control", stage)
		}
		dists := tpl.resources("AWS::CloudFront::Distribution")
		if len(dists) != 1 {
			t.Fatalf("%s: %d distributions", stage, len(dists))
		}
		for _, d := range dists {
			cfg := js(d["DistributionConfig"])
			for _, want := range []string{`"PathPattern":"/onboarding/*"`, `"ViewerProtocolPolicy":"redirect-to-https"`, `"ViewerProtocolPolicy":"https-only"`,
				`"DefaultRootObject":"index.html"`, `"CachePolicyId":"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"`} {
				if !strings.Contains(cfg, want) {
					t.Errorf("%s: the distribution lacks %s", stage, want)
				}
			}
		}
		if len(tpl.resources("Custom::CDKBucketDeployment")) != 1 {
			t.Errorf("%s: the console's files are not uploaded", stage)
		}
		if len(tpl.resources("AWS::CloudFront::ResponseHeadersPolicy")) != 1 {
			t.Errorf("%s: no security headers", stage)
		}
	}
}
