// Package catalog is the one description of the platform's moving parts: the table, the queues, the
// rate-limit plan and every function with its trigger, environment and grants. The CDK stack
// (infra/stack) and the local stack (shared/localstack) are both built from it, so a function added
// here appears in both and the two cannot drift. It holds plain data only: no AWS or CDK types.
package catalog

import "time"

// AuthMode says what the gateway demands before a route's function runs.
type AuthMode int

const (
	// Public routes run without the authorizer (the token endpoint and the OpenAPI document).
	Public AuthMode = iota
	// TokenAndKey needs a bearer token and an Ocp-Apim-Subscription-Key (all /certified-pickup/*).
	TokenAndKey
	// TokenOptionalKey needs a bearer token; a subscription key is checked when sent (/ingestion/*).
	TokenOptionalKey
	// ConsoleSession routes run without the API's authorizer: the function verifies the console
	// session token itself (audience "console", contract §11), which the API's authorizer refuses.
	ConsoleSession
)

// Authorized tells whether the gateway runs the API's authorizer before the route's function.
func (m AuthMode) Authorized() bool { return m == TokenAndKey || m == TokenOptionalKey }

// Route triggers a function from the REST API. Path uses API Gateway's template syntax
// ("/a/{id}/b").
type Route struct {
	Method string
	Path   string
	Auth   AuthMode
	// Throttle, when set, limits the route for all callers together (API Gateway's method
	// throttling; the local gateway applies the same token bucket).
	Throttle *Throttle
}

// Throttle is a token bucket: RatePerSecond calls a second sustained, Burst at once.
type Throttle struct {
	RatePerSecond float64
	Burst         int
}

// QueueTrigger feeds a function from an SQS queue (event source mapping with partial batch failures).
type QueueTrigger struct {
	Queue     string // a Queue.Name
	BatchSize int
	// MaxConcurrency, when set, bounds the batches in flight at once (the event source mapping's
	// maximum concurrency; the local stack runs min(MaxConcurrency, LocalPollers) pollers).
	MaxConcurrency int
	// HoldsVisibility: the consumer sets the visibility of the messages it hands back itself (to
	// hold them until a time), as Lambda leaves it; the local stack's quick retry of failures
	// must not override it.
	HoldsVisibility bool
}

// LocalPollers bounds the pollers (and function processes) the local stack runs for one queue.
const LocalPollers = 6

// StreamTrigger feeds a function from the table's stream. Filter is the DynamoDB event filter
// pattern (JSON) as Lambda event source mappings take it; the local stack applies the same pattern.
type StreamTrigger struct {
	BatchSize int
	Filter    string
	// Retries is how often a failing batch is retried before its failing record goes to the
	// failure destination; RetryUntilExpired keeps retrying until the stream drops the record
	// (24 hours), for work that must not be skipped.
	Retries int
}

// RetryUntilExpired: StreamTrigger.Retries without a bound.
const RetryUntilExpired = -1

// ScheduleTrigger runs a function periodically.
type ScheduleTrigger struct {
	Every time.Duration
}

// Trigger is exactly one of its fields; authorizers have none (the gateway calls them).
type Trigger struct {
	Route    *Route
	Queue    *QueueTrigger
	Stream   *StreamTrigger
	Schedule *ScheduleTrigger
}

// EnvRef is a symbolic environment value resolved by each stack builder.
type EnvRef int

const (
	EnvTableName            EnvRef = iota // the single table's name
	EnvStage                              // the stage ("staging", "production", "local")
	EnvTokenSigner                        // where tokens are signed: a KMS key in AWS, a generated key locally
	EnvTokenVerifier                      // how tokens are verified: the same KMS key's public half, locally the generated public key
	EnvQueueURL                           // a queue's URL (Env.Queue names it)
	EnvDeadLetterQueueURL                 // the URL of a queue's DLQ (Env.Queue names the queue)
	EnvAllowedPorts                       // configured UN/LOCODEs of the ports served
	EnvTokenTTL                           // token lifetime in seconds
	EnvClientSecretKey                    // the client-secret hash key: a KMS HMAC key to derive it from in AWS, a generated key locally
	EnvChannelSecretKey                   // what seals channel secrets: a symmetric KMS key in AWS, a generated AES key locally
	EnvChannelEgress                      // the egress policy of webhook deliveries: "public" in AWS, "loopback" on the local stack
	EnvDeliveryTiming                     // the scale of the retry schedule: "1" in every stage (tests shrink it)
	EnvDeliveryRate                       // deliveries a second to one channel: "20" (contract §9)
	EnvMailFrom                           // the sender address of the platform's e-mail (a verified SES identity)
	EnvMailConfigurationSet               // the SES configuration set e-mail is sent through
	EnvConsoleURL                         // the console's address, for the links in e-mails
	EnvUsagePlan                          // the name of the stage\'s usage plan keys are registered with ("" locally: none)
)

// Env is one environment variable of a function.
type Env struct {
	Name  string
	Ref   EnvRef
	Queue string // for EnvQueueURL and EnvDeadLetterQueueURL
}

// Access is what a grant allows.
type Access int

const (
	Read Access = iota
	Write
	ReadWrite
	Send   // sqs:SendMessage (receiving comes with the event source mapping)
	Sign   // kms:Sign on the token key
	Verify // kms:GetPublicKey on the token key
	Mac    // kms:GenerateMac on the client-secret key
	Seal   // kms:GenerateDataKey on the channel key (a data key seals each secret)
	Open   // kms:Decrypt on the channel key (of a sealed secret's data key)
	Email  // ses:SendEmail from the platform's identity through its configuration set
	AddKey // find the stage's usage plan and register API keys with it
)

// Resource a grant applies to.
type Resource int

const (
	Table Resource = iota
	QueueResource
	DeadLetterQueueResource // the DLQ of Grant.Queue
	TokenKey
	ClientSecretKey // the HMAC KMS key the client-secret hash key is derived from
	ChannelKey      // the symmetric KMS key that seals channel secrets
	Mail            // the SES identity and configuration set
	UsagePlanKeys   // the stage's usage plan and API keys (API Gateway)
)

// Grant is one least-privilege permission of a function.
type Grant struct {
	On     Resource
	Queue  string // for QueueResource and DeadLetterQueueResource
	Access Access
	// KeyPrefix, on a Read or Write grant of the Table, limits it to items whose partition key
	// starts with it (IAM's dynamodb:LeadingKeys).
	KeyPrefix string
	// Batch, on a Write grant with a KeyPrefix, also allows BatchWriteItem on those items.
	Batch bool
}

// AuthFailuresPrefix starts the partition key of the token endpoint's failed-authentication
// records (shared/store), the only items the token function may write.
const AuthFailuresPrefix = "AUTHFAIL#"

// Function is one Lambda: its folder under functions/ is its Name.
type Function struct {
	Name        string
	Description string
	Trigger     Trigger
	Authorizer  bool // the REST API's REQUEST authorizer
	Env         []Env
	Grants      []Grant
	Timeout     time.Duration
	MemoryMB    int
	// ReservedConcurrency, when above zero, is both the most instances the function may run at
	// once and a share of the account's concurrency kept for it: an invocation beyond it is
	// throttled instead of taking concurrency the other functions need.
	ReservedConcurrency int
}

// Queue is an SQS queue; every queue gets a DLQ.
type Queue struct {
	Name string
	FIFO bool
	// MaxAttempts is how often the consumer tries a message before it parks it in the DLQ itself,
	// with the reason.
	MaxAttempts int
	// MaxReceives is SQS's redrive count. SQS counts receives, and a message held behind a failing
	// one of its container is received again each time without being tried, so for a consumer that
	// counts its own attempts it is set out of reach (SQS's maximum); the messages stay for days.
	MaxReceives int
	// VisibilityTimeout must be at least six times the consuming function's timeout (AWS guidance).
	VisibilityTimeout time.Duration
	// HighThroughput (FIFO only) deduplicates and limits throughput per message group instead of
	// per queue, so busy containers do not share one queue-wide limit.
	HighThroughput bool
	// RetentionDays keeps messages this long (4 when unset); SQS drops older ones without a DLQ.
	RetentionDays int
	// AgeAlarm, when set, raises an alarm when the oldest message has waited longer.
	AgeAlarm time.Duration
}

// DLQName is the name of a queue's dead-letter queue.
func (q Queue) DLQName() string {
	if q.FIFO {
		return q.Name + "-dlq.fifo"
	}
	return q.Name + "-dlq"
}

// PhysicalName is the queue's name as created (FIFO queues must end in ".fifo").
func (q Queue) PhysicalName() string {
	if q.FIFO {
		return q.Name + ".fifo"
	}
	return q.Name
}

// RatePlan is the usage plan every subscription key (or client, when no key is sent) is held to.
type RatePlan struct {
	Calls  int
	Window time.Duration
}

// Plan: 500 calls a minute (contract §2).
var Plan = RatePlan{Calls: 500, Window: time.Minute}

// The token endpoint's limits: 25 calls a second with bursts of 50 for all callers together, and at
// most 10 instances of its function.
const (
	TokenRate        = 25
	TokenBurst       = 50
	TokenConcurrency = 10
)

// MaxBodyBytes is the largest request body the API accepts (contract §4: 413 above 1 MiB).
const MaxBodyBytes = 1 << 20

// SubscriptionAPI is the API name keys are issued for.
const SubscriptionAPI = "cpu"

// Functions lists every function of the platform.
func Functions() []Function {
	return append(append(coreFunctions(), channelFunctions()...), onboardingFunctions()...)
}

// onboardingFunctions serve contract §11: sign-in, invitations, registration, the community
// administrator's decisions and access requests. The routes people reach before they have a
// session are public and throttled for all callers together; the others verify the session.
func onboardingFunctions() []Function {
	const base = "/onboarding/v1"
	throttled := func(method, path string) Trigger {
		return Trigger{Route: &Route{Method: method, Path: base + path, Auth: Public, Throttle: &Throttle{RatePerSecond: 10, Burst: 20}}}
	}
	session := func(method, path string) Trigger {
		return Trigger{Route: &Route{Method: method, Path: base + path, Auth: ConsoleSession}}
	}
	mailEnv := []Env{{Name: "MAIL_FROM", Ref: EnvMailFrom}, {Name: "MAIL_CONFIGURATION_SET", Ref: EnvMailConfigurationSet}, {Name: "CONSOLE_URL", Ref: EnvConsoleURL}}
	verify := []Env{{Name: "TOKEN_VERIFIER", Ref: EnvTokenVerifier}}
	mail := Grant{On: Mail, Access: Email}
	read := Grant{On: Table, Access: Read}
	write := func(prefix string) Grant { return Grant{On: Table, Access: Write, KeyPrefix: prefix} }
	fn := func(name, desc string, t Trigger, grants []Grant, extra ...Env) Function {
		return Function{Name: name, Description: desc, Trigger: t, Env: env(extra...), Grants: grants, Timeout: 10 * time.Second, MemoryMB: 256}
	}
	signIn := fn("signin-start", "POST "+base+"/sign-in: e-mail and password; the code goes by e-mail (the same 202 for every address)",
		throttled("POST", "/sign-in"), []Grant{read, write(ChallengePrefix), write(SignInGuardPrefix), mail}, mailEnv...)
	// argon2id takes 19 MiB and most of a vCPU for a moment: memory buys CPU on Lambda.
	signIn.MemoryMB = 1024
	confirm := fn("registration-confirm", "POST "+base+"/registrations/{registrationId}/confirm: password and terms; the company and its first admin are created",
		throttled("POST", "/registrations/{registrationId}/confirm"), []Grant{{On: Table, Access: ReadWrite}, mail}, mailEnv...)
	confirm.MemoryMB = 1024
	setPassword := fn("person-set-password", "POST "+base+"/people/{userId}/password: an invited person sets its password from the e-mailed link",
		throttled("POST", "/people/{userId}/password"), []Grant{read, write(PersonPrefix), write(UniquePrefix), write(EntityPrefix), write(PasswordTokenPrefix)})
	setPassword.MemoryMB = 1024
	// The marketplace: the functions that make keys seal them (so admins see them again), write
	// them under KEY#, and register them with the stage's usage plan.
	subEnv := append([]Env{{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey}, {Name: "USAGE_PLAN", Ref: EnvUsagePlan}}, verify...)
	boxEnv := append([]Env{{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey}}, verify...)
	subGrants := func(withMail bool) []Grant {
		g := []Grant{read, write(EntityPrefix), write(KeyPrefix), {On: TokenKey, Access: Verify}, {On: ChannelKey, Access: Seal}, {On: UsagePlanKeys, Access: AddKey}}
		if withMail {
			g = append(g, mail)
		}
		return g
	}
	return []Function{
		signIn,
		fn("signin-code", "POST "+base+"/sign-in/{challengeId}: the e-mailed code answers a console session token",
			throttled("POST", "/sign-in/{challengeId}"), []Grant{read, write(ChallengePrefix), {On: TokenKey, Access: Sign}},
			Env{Name: "TOKEN_SIGNER", Ref: EnvTokenSigner}),
		fn("invitation-create", "POST "+base+"/invitations: a community administrator's registration link",
			session("POST", "/invitations"), []Grant{read, write(InvitationPrefix), mail, {On: TokenKey, Access: Verify}}, append(mailEnv, verify...)...),
		fn("registration-create", "POST "+base+"/registrations: a company and its person register from an invitation; the confirmation goes by e-mail",
			throttled("POST", "/registrations"), []Grant{read, write(RegistrationPrefix), write(InvitationPrefix), mail}, mailEnv...),
		confirm,
		fn("membership-list", "GET "+base+"/memberships: the community administrator's queue of memberships",
			session("GET", "/memberships"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("membership-decide", "POST "+base+"/memberships/{entityId}/decision: approve, or reject with a reason",
			session("POST", "/memberships/{entityId}/decision"), []Grant{read, write(EntityPrefix), mail, {On: TokenKey, Access: Verify}}, append(mailEnv, verify...)...),
		fn("access-request-create", "POST "+base+"/access-requests: ask a registered company's admins for an account (the same 202 whether or not it exists)",
			throttled("POST", "/access-requests"), []Grant{read, mail}, mailEnv...),
		fn("people-list", "GET "+base+"/people: an admin's list of its company's people",
			session("GET", "/people"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("person-invite", "POST "+base+"/people: an admin invites a user or an admin of its company (a set-password link by e-mail)",
			session("POST", "/people"), []Grant{read, write(PersonPrefix), write(UniquePrefix), write(EntityPrefix), write(PasswordTokenPrefix), mail, {On: TokenKey, Access: Verify}},
			append(mailEnv, verify...)...),
		fn("person-change", "POST "+base+"/people/{userId}: an admin changes a person's role, or blocks or unblocks it (the last admin stays)",
			session("POST", "/people/{userId}"), []Grant{read, write(PersonPrefix), write(EntityPrefix), {On: TokenKey, Access: Verify}}, verify...),
		setPassword,
		fn("apis-list", "GET "+base+"/apis: the marketplace's APIs and the environment this stage serves",
			session("GET", "/apis"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("subscription-create", "POST "+base+"/subscriptions: an admin subscribes its company (approved at once, or by the API's asset manager)",
			session("POST", "/subscriptions"), subGrants(true), append(subEnv, mailEnv...)...),
		fn("subscription-list", "GET "+base+"/subscriptions: the company's subscriptions, or the asset manager's queue",
			session("GET", "/subscriptions"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("subscription-keys", "GET "+base+"/subscriptions/{api}/keys: the subscription's primary and secondary keys (admins)",
			session("GET", "/subscriptions/{api}/keys"), []Grant{read, {On: TokenKey, Access: Verify}, {On: ChannelKey, Access: Open}}, boxEnv...),
		fn("subscription-regenerate", "POST "+base+"/subscriptions/{api}/keys/{which}/regenerate: a new primary or secondary key; the other keeps working",
			session("POST", "/subscriptions/{api}/keys/{which}/regenerate"), append(subGrants(false), Grant{On: ChannelKey, Access: Open}), subEnv...),
		fn("subscription-cancel", "POST "+base+"/subscriptions/{api}/cancel: cancel the subscription; its keys are revoked",
			session("POST", "/subscriptions/{api}/cancel"), []Grant{read, write(EntityPrefix), write(KeyPrefix), {On: TokenKey, Access: Verify}}, verify...),
		fn("console-clients", "GET "+base+"/clients: the company's API clients, never a secret (admins)",
			session("GET", "/clients"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("console-channels", "GET "+base+"/channels: the company's notification channels, read in the console (admins)",
			session("GET", "/channels"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("console-channel-deliveries", "GET "+base+"/channels/{channelId}/deliveries: a channel's delivery log, read in the console (admins)",
			session("GET", "/channels/{channelId}/deliveries"), []Grant{read, {On: TokenKey, Access: Verify}}, verify...),
		fn("subscription-decide", "POST "+base+"/subscriptions/{api}/decisions/{entityId}: the asset manager approves (keys made) or rejects",
			session("POST", "/subscriptions/{api}/decisions/{entityId}"), subGrants(true), append(subEnv, mailEnv...)...),
	}
}

func coreFunctions() []Function {
	return []Function{
		{
			Name:        "authorizer",
			Description: "REST API REQUEST authorizer: bearer token and subscription key",
			Authorizer:  true,
			Env: env(
				Env{Name: "TOKEN_VERIFIER", Ref: EnvTokenVerifier},
			),
			Grants:   []Grant{{On: Table, Access: Read}, {On: TokenKey, Access: Verify}},
			Timeout:  5 * time.Second,
			MemoryMB: 256,
		},
		{
			Name:        "oauth-token",
			Description: "POST /oauth2/token: client credentials grant",
			// Public, so it cannot lean on the usage plan: the route is throttled for everyone
			// together and the function's concurrency is capped and reserved, so a flood of token
			// calls can neither run up the bill nor take the concurrency of the authorizer and the
			// consumers (review finding #5). Clients fetch a token an hour, not a call.
			Trigger: Trigger{Route: &Route{Method: "POST", Path: "/oauth2/token", Auth: Public,
				Throttle: &Throttle{RatePerSecond: TokenRate, Burst: TokenBurst}}},
			Env: env(
				Env{Name: "TOKEN_SIGNER", Ref: EnvTokenSigner},
				Env{Name: "TOKEN_TTL_SECONDS", Ref: EnvTokenTTL},
				Env{Name: "CLIENT_SECRET_KEY", Ref: EnvClientSecretKey},
			),
			// It writes its failed-authentication records and nothing else: never a client.
			Grants: []Grant{
				{On: Table, Access: Read}, {On: Table, Access: Write, KeyPrefix: AuthFailuresPrefix},
				{On: TokenKey, Access: Sign}, {On: ClientSecretKey, Access: Mac},
			},
			// A keyed hash (HMAC) costs microseconds: the function needs no CPU beyond the minimum.
			Timeout:             10 * time.Second,
			MemoryMB:            256,
			ReservedConcurrency: TokenConcurrency,
		},
		{
			// The document is embedded in the binary: no table, queue or key.
			Name:        "openapi",
			Description: "GET /openapi.json: the OpenAPI 3.1 document of the API, without credentials",
			Trigger:     Trigger{Route: &Route{Method: "GET", Path: "/openapi.json", Auth: Public}},
			Env:         env(),
			Timeout:     5 * time.Second,
			MemoryMB:    128,
		},
		{
			Name:        "entities-search",
			Description: "E6 GET /certified-pickup/v1/entities: the company registry",
			Trigger:     Trigger{Route: &Route{Method: "GET", Path: "/certified-pickup/v1/entities", Auth: TokenAndKey}},
			Env:         env(),
			Grants:      []Grant{{On: Table, Access: Read}},
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
		{
			Name:        "release-ingest",
			Description: "E1 POST /ingestion/v1/ingestion/{ingestionId}: accept a commercial release action, or a terminal's or an authority's input",
			Trigger:     Trigger{Route: &Route{Method: "POST", Path: "/ingestion/v1/ingestion/{ingestionId}", Auth: TokenOptionalKey}},
			Env: env(
				Env{Name: "ALLOWED_PORTS", Ref: EnvAllowedPorts},
				Env{Name: "COMMAND_QUEUE_URL", Ref: EnvQueueURL, Queue: CommandQueue},
			),
			Grants:   acceptGrants,
			Timeout:  10 * time.Second,
			MemoryMB: 256,
		},
		{
			Name:        "command-relay",
			Description: "Queues the commands of accepted E1, E3 and E4 calls that their call could not queue itself (the outbox of the table's stream)",
			Trigger:     Trigger{Stream: &StreamTrigger{BatchSize: 10, Filter: AcceptanceFilter, Retries: RetryUntilExpired}},
			Env: env(
				Env{Name: "COMMAND_QUEUE_URL", Ref: EnvQueueURL, Queue: CommandQueue},
			),
			Grants:   acceptGrants,
			Timeout:  30 * time.Second,
			MemoryMB: 256,
		},
		{
			Name:        "command-consumer",
			Description: "Applies the queued commands on releases (E1, E3, E4, expiry) to the table, with their outcomes",
			Trigger:     Trigger{Queue: &QueueTrigger{Queue: CommandQueue, BatchSize: 10}},
			Env: env(
				Env{Name: "DEAD_LETTER_QUEUE_URL", Ref: EnvDeadLetterQueueURL, Queue: CommandQueue},
				// Seals the pick-up PIN of an Assign for the holder's notification.
				Env{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey},
			),
			Grants: []Grant{{On: Table, Access: ReadWrite}, {On: DeadLetterQueueResource, Queue: CommandQueue, Access: Send},
				{On: ChannelKey, Access: Seal}},
			Timeout:  30 * time.Second,
			MemoryMB: 512,
		},
		{
			// One consumer for both: DynamoDB Streams serves at most two readers a shard without
			// throttling, and the command relay is the other.
			Name:        "notification-stream",
			Description: "The table stream's notification consumer: outcomes into notifications (kept 168 hours), new notifications into delivery jobs for the receivers' channels",
			// Until the records expire: a failure here (a throttled queue, a timeout) must not
			// discard the notifications of later outcomes with it. Undecodable records are skipped.
			Trigger:  Trigger{Stream: &StreamTrigger{BatchSize: 100, Filter: NotificationStreamFilter, Retries: RetryUntilExpired}},
			Env:      env(Env{Name: "DELIVERY_QUEUE_URL", Ref: EnvQueueURL, Queue: DeliveryQueue}),
			Grants:   []Grant{{On: Table, Access: Read}, {On: Table, Access: Write}, {On: QueueResource, Queue: DeliveryQueue, Access: Send}},
			Timeout:  60 * time.Second,
			MemoryMB: 512,
		},
		{
			Name:        "notifications-list",
			Description: "E7 GET /certified-pickup/v1/notifications: the caller's notifications of the last 168 hours",
			Trigger:     Trigger{Route: &Route{Method: "GET", Path: "/certified-pickup/v1/notifications", Auth: TokenAndKey}},
			// Opens the sealed pick-up PIN of the holder's Assign notification on the way out.
			Env:      env(Env{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey}),
			Grants:   []Grant{{On: Table, Access: Read}, {On: ChannelKey, Access: Open}},
			Timeout:  10 * time.Second,
			MemoryMB: 512,
		},
		{
			Name:        "release-expiry",
			Description: "Queues an Expire action for each release whose expiration has passed",
			Trigger:     Trigger{Schedule: &ScheduleTrigger{Every: time.Minute}},
			Env: env(
				Env{Name: "COMMAND_QUEUE_URL", Ref: EnvQueueURL, Queue: CommandQueue},
			),
			Grants:   []Grant{{On: Table, Access: Read}, {On: QueueResource, Queue: CommandQueue, Access: Send}},
			Timeout:  60 * time.Second,
			MemoryMB: 256,
		},
		{
			Name:        "release-right-action",
			Description: "E3 PUT /certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights: Transfer or Revoke one right",
			Trigger:     Trigger{Route: &Route{Method: "PUT", Path: "/certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights", Auth: TokenAndKey}},
			Env:         rightsEnv,
			Grants:      acceptGrants,
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
		{
			Name:        "release-rights-bulk",
			Description: "E4 PUT /certified-pickup/v1/{portLoCode}/containers/import/release-rights: one action on 1 to 100 rights",
			Trigger:     Trigger{Route: &Route{Method: "PUT", Path: "/certified-pickup/v1/{portLoCode}/containers/import/release-rights", Auth: TokenAndKey}},
			Env:         rightsEnv,
			Grants:      acceptGrants,
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
		{
			Name:        "release-right-assign",
			Description: "PUT /certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights/assignment: the holding transport operator assigns the pick-up",
			Trigger:     Trigger{Route: &Route{Method: "PUT", Path: assignmentPath, Auth: TokenAndKey}},
			Env:         rightsEnv,
			Grants:      acceptGrants,
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
		{
			Name:        "release-right-unassign",
			Description: "DELETE /certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights/assignment: the holder unassigns the pick-up",
			Trigger:     Trigger{Route: &Route{Method: "DELETE", Path: assignmentPath, Auth: TokenAndKey}},
			Env:         rightsEnv,
			Grants:      acceptGrants,
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
		{
			// Synchronous: one Query of the container's current state, and one transaction that
			// keeps the validation (and a failed PIN's count) in the container's partition.
			Name:        "pickup-validation",
			Description: "POST /certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/pickup-validations: the terminal's gate validation",
			Trigger:     Trigger{Route: &Route{Method: "POST", Path: "/certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/pickup-validations", Auth: TokenAndKey}},
			Env:         env(Env{Name: "ALLOWED_PORTS", Ref: EnvAllowedPorts}),
			Grants:      []Grant{{On: Table, Access: Read}, {On: Table, Access: Write, KeyPrefix: ContainerPrefix}},
			Timeout:     10 * time.Second,
			MemoryMB:    512,
		},
		{
			Name:        "release-rights-list",
			Description: "E2 GET /certified-pickup/v1/{portLoCode}/containers/import/release-rights: my release rights, as a notification",
			Trigger:     Trigger{Route: &Route{Method: "GET", Path: "/certified-pickup/v1/{portLoCode}/containers/import/release-rights", Auth: TokenAndKey}},
			Env:         readsEnv,
			Grants:      []Grant{{On: Table, Access: ReadWrite}},
			Timeout:     20 * time.Second,
			MemoryMB:    1024,
		},
		{
			Name:        "release-detail",
			Description: "E5 GET /certified-pickup/v1/{portLoCode}/containers/import/release-rights/{equipmentNumber}: a release's detail, as a notification",
			Trigger:     Trigger{Route: &Route{Method: "GET", Path: "/certified-pickup/v1/{portLoCode}/containers/import/release-rights/{equipmentNumber}", Auth: TokenAndKey}},
			Env:         readsEnv,
			Grants:      []Grant{{On: Table, Access: ReadWrite}},
			Timeout:     10 * time.Second,
			MemoryMB:    256,
		},
	}
}

// channelFunctions serve contract §9: the channel endpoints (each entity's own channels) and the
// delivery pipeline (stream → deliveries queue → receivers, with retries and replays).
func channelFunctions() []Function {
	const base = "/certified-pickup/v1/notification-channels"
	route := func(method, path string) Trigger {
		return Trigger{Route: &Route{Method: method, Path: base + path, Auth: TokenAndKey}}
	}
	writeChannels := Grant{On: Table, Access: Write, KeyPrefix: ChannelPrefix}
	writeLog := Grant{On: Table, Access: Write, KeyPrefix: DeliveryLogPrefix, Batch: true}
	read := Grant{On: Table, Access: Read}
	api := func(name, desc string, t Trigger, grants []Grant, extra ...Env) Function {
		return Function{Name: name, Description: desc, Trigger: t, Env: env(extra...), Grants: grants, Timeout: 10 * time.Second, MemoryMB: 256}
	}
	sealEnv := []Env{{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey}, {Name: "CHANNEL_EGRESS", Ref: EnvChannelEgress}}
	test := api("channel-test", "POST "+base+"/{channelId}/test: deliver a Ping now and answer the attempt's result",
		route("POST", "/{channelId}/test"), []Grant{read, writeLog, writeChannels, {On: ChannelKey, Access: Open}, {On: ChannelKey, Access: Seal}}, sealEnv...)
	// An attempt may take 15 s, and a token fetch before it as long: inside API Gateway's 29 s.
	test.Timeout = 28 * time.Second
	return []Function{
		api("channel-create", "POST "+base+": create a notification channel (201 with its signing secret, shown once)",
			route("POST", ""), []Grant{read, writeChannels, {On: ChannelKey, Access: Seal}}, sealEnv...),
		api("channel-list", "GET "+base+": the caller's notification channels", route("GET", ""), []Grant{read}),
		api("channel-read", "GET "+base+"/{channelId}: one of the caller's channels", route("GET", "/{channelId}"), []Grant{read}),
		api("channel-replace", "PUT "+base+"/{channelId}: replace a channel (secrets left out keep their values)",
			route("PUT", "/{channelId}"), []Grant{read, writeChannels, {On: ChannelKey, Access: Seal}}, sealEnv...),
		api("channel-delete", "DELETE "+base+"/{channelId}: delete a channel", route("DELETE", "/{channelId}"), []Grant{read, writeChannels}),
		test,
		api("channel-rotate-secret", "POST "+base+"/{channelId}/rotate-secret: a new signing secret; the old one signs beside it for 24 hours",
			route("POST", "/{channelId}/rotate-secret"), []Grant{read, writeChannels, {On: ChannelKey, Access: Seal}}, sealEnv...),
		api("channel-deliveries", "GET "+base+"/{channelId}/deliveries: the channel's delivery log", route("GET", "/{channelId}/deliveries"), []Grant{read}),
		api("channel-replay", "POST "+base+"/{channelId}/replay: deliver stored notifications again",
			route("POST", "/{channelId}/replay"), []Grant{read, {On: QueueResource, Queue: ReplayQueue, Access: Send}},
			Env{Name: "REPLAY_QUEUE_URL", Ref: EnvQueueURL, Queue: ReplayQueue}),
		{
			Name:        "webhook-deliverer",
			Description: "POSTs signed notifications to the channels' receivers, paced per channel, and schedules the retries",
			// It makes the jobs it hands back visible again itself (at once, or after a pause).
			Trigger: Trigger{Queue: &QueueTrigger{Queue: DeliveryQueue, BatchSize: 10, MaxConcurrency: 100, HoldsVisibility: true}},
			Env: env(
				Env{Name: "CHANNEL_SECRET_KEY", Ref: EnvChannelSecretKey}, Env{Name: "CHANNEL_EGRESS", Ref: EnvChannelEgress},
				Env{Name: "DELIVERY_TIMING_SCALE", Ref: EnvDeliveryTiming}, Env{Name: "DELIVERY_RATE_PER_SECOND", Ref: EnvDeliveryRate},
				Env{Name: "DELIVERY_QUEUE_URL", Ref: EnvQueueURL, Queue: DeliveryQueue},
				Env{Name: "RETRY_QUEUE_URL", Ref: EnvQueueURL, Queue: RetryQueue},
			),
			// It talks to addresses its users choose, so it may read only channels and
			// notifications, and write only attempts, a channel's failure streak and its receiver's
			// token (sealed), and the ChannelDisabled notice.
			Grants: []Grant{{On: Table, Access: Read, KeyPrefix: ChannelPrefix}, {On: Table, Access: Read, KeyPrefix: NotificationPrefix},
				writeLog, writeChannels, {On: Table, Access: Write, KeyPrefix: NotificationPrefix, Batch: true},
				{On: ChannelKey, Access: Open}, {On: ChannelKey, Access: Seal}, {On: QueueResource, Queue: RetryQueue, Access: Send}},
			// A batch spends at most delivery.GroupBudget on a channel, plus one attempt (15 s) and
			// its token fetch (15 s).
			Timeout:  60 * time.Second,
			MemoryMB: 512,
		},
		{
			Name:        "webhook-retrier",
			Description: "Holds failed deliveries until their next attempt is due, then queues them behind their channel's others",
			Trigger:     Trigger{Queue: &QueueTrigger{Queue: RetryQueue, BatchSize: 10}},
			Env: env(
				Env{Name: "DELIVERY_QUEUE_URL", Ref: EnvQueueURL, Queue: DeliveryQueue},
				Env{Name: "RETRY_QUEUE_URL", Ref: EnvQueueURL, Queue: RetryQueue},
			),
			Grants:   []Grant{{On: QueueResource, Queue: DeliveryQueue, Access: Send}, {On: QueueResource, Queue: RetryQueue, Access: Send}},
			Timeout:  30 * time.Second,
			MemoryMB: 128,
		},
		{
			Name:        "channel-replayer",
			Description: "Turns a replay into delivery jobs, a chunk at a time",
			Trigger:     Trigger{Queue: &QueueTrigger{Queue: ReplayQueue, BatchSize: 1}},
			Env: env(
				Env{Name: "DELIVERY_QUEUE_URL", Ref: EnvQueueURL, Queue: DeliveryQueue},
				Env{Name: "REPLAY_QUEUE_URL", Ref: EnvQueueURL, Queue: ReplayQueue},
			),
			Grants:   []Grant{read, {On: QueueResource, Queue: DeliveryQueue, Access: Send}, {On: QueueResource, Queue: ReplayQueue, Access: Send}},
			Timeout:  60 * time.Second,
			MemoryMB: 256,
		},
	}
}

// Queues and key prefixes of the channels (contract §9).
const (
	// DeliveryQueue carries delivery jobs, one message group per channel: a channel's jobs are
	// attempted one after another in the order queued (and at most 20 a second), and a slow
	// channel holds only its own group.
	DeliveryQueue = "deliveries"
	// RetryQueue holds retried jobs until they are due (per-message delays, up to 15 minutes a hop).
	RetryQueue = "delivery-retries"
	// ReplayQueue carries replay requests.
	ReplayQueue = "replays"
	// Partition-key prefixes of the onboarding's items (shared/store/people.go).
	ChallengePrefix     = "CHAL#"
	SignInGuardPrefix   = "SIGNIN#"
	InvitationPrefix    = "INVITE#"
	RegistrationPrefix  = "REGN#"
	EntityPrefix        = "ENT#"
	PersonPrefix        = "PERSON#"
	UniquePrefix        = "UNQ#"
	PasswordTokenPrefix = "PWSET#"
	KeyPrefix           = "KEY#"
	// ContainerPrefix starts the partition key of a container's items (releases, visit, history).
	ContainerPrefix = "REL#"
	// ChannelPrefix starts the partition key of an entity's channels and their counter.
	ChannelPrefix = "CHAN#"
	// DeliveryLogPrefix starts the partition key of a channel's delivery log.
	DeliveryLogPrefix = "DLOG#"
	// NotificationPrefix starts the partition key of a receiver's notifications.
	NotificationPrefix = "NOTIF#"
)

// readsEnv is the environment of the async reads (they record their answer as an outcome).
var readsEnv = env(Env{Name: "ALLOWED_PORTS", Ref: EnvAllowedPorts})

// env is every function's environment: its table and stage, and what it needs besides.
// assignmentPath is the route of the pick-up's assignment (PUT assigns, DELETE unassigns).
const assignmentPath = "/certified-pickup/v1/{portLoCode}/containers/{equipmentNumber}/import/release-rights/assignment"

func env(extra ...Env) []Env {
	return append([]Env{{Name: "TABLE_NAME", Ref: EnvTableName}, {Name: "STAGE", Ref: EnvStage}}, extra...)
}

// acceptGrants let a function accept commands: read the table, write acceptances (and nothing
// else), and send to the command queue.
var acceptGrants = []Grant{
	{On: Table, Access: Read}, {On: Table, Access: Write, KeyPrefix: AcceptancePrefix},
	{On: QueueResource, Queue: CommandQueue, Access: Send},
}

var rightsEnv = env(
	Env{Name: "ALLOWED_PORTS", Ref: EnvAllowedPorts},
	Env{Name: "COMMAND_QUEUE_URL", Ref: EnvQueueURL, Queue: CommandQueue},
)

// CommandQueue carries every accepted command on a release (E1, E3, E4, expiry) to the one
// consumer, grouped per port and container: the commands on one container apply in the order they
// were accepted, whatever endpoint accepted them.
const CommandQueue = "commands"

// AcceptanceFilter lets the relay see the acceptances of E1, E3 and E4 calls: written new, or
// written again over an expired one with the same Idempotency-Key (a MODIFY). The mark that a call
// queued its commands is an item of its own, which the filter drops.
const AcceptanceFilter = `{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"itemType":{"S":["Acceptance"]}}}}`

// AcceptancePrefix starts the partition key of every acceptance (shared/store): E1, E3 and E4 may
// write these items and no others.
const AcceptancePrefix = "ACCEPT#"

// NotificationStreamFilter lets new outcomes and new notifications of the table's stream reach the
// notification consumer (a notification written again, by a retried stream record, is a MODIFY and
// is not delivered twice).
const NotificationStreamFilter = `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"itemType":{"S":["Outcome","Notification"]}}}}`

// Queues lists every queue of the platform (each with its DLQ).
func Queues() []Queue {
	return []Queue{
		// FIFO: one message group per container, so actions on a container apply in the order they
		// were accepted; deduplicated on the public reference id and item.
		{Name: CommandQueue, FIFO: true, HighThroughput: true, MaxAttempts: 5, MaxReceives: 1000, VisibilityTimeout: 180 * time.Second},
		// The deliverer never fails a job for its receiver's sake (retries are jobs of their own);
		// a message comes back only when the table or a queue failed, or the batch left it for the
		// next one (a slow channel), so SQS's count is set out of reach as for commands.
		// A channel takes its jobs one after another: a receiver that answers slowly builds a
		// backlog, which an alarm reports after an hour and SQS keeps for two weeks.
		{Name: DeliveryQueue, FIFO: true, HighThroughput: true, MaxReceives: 1000, VisibilityTimeout: 360 * time.Second,
			RetentionDays: 14, AgeAlarm: time.Hour},
		// A retry waits in its message, delayed (never in flight: a standard queue holds at most
		// about 120,000 messages in flight, which waits of hours would fill).
		{Name: RetryQueue, MaxReceives: 10, VisibilityTimeout: 180 * time.Second, RetentionDays: 14},
		{Name: ReplayQueue, MaxReceives: 10, VisibilityTimeout: 360 * time.Second},
	}
}

// Catalog is a set of functions and queues a stack is built from.
type Catalog struct {
	Functions []Function
	Queues    []Queue
}

// Platform is the catalog of the platform.
func Platform() Catalog { return Catalog{Functions: Functions(), Queues: Queues()} }

// QueueNamed returns the queue with the given name.
func QueueNamed(name string) (Queue, bool) {
	for _, q := range Queues() {
		if q.Name == name {
			return q, true
		}
	}
	return Queue{}, false
}

// Lookup returns the function with the given name.
func Lookup(name string) (Function, bool) {
	for _, f := range Functions() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// ResolveEnv turns a function's symbolic environment into values with a stack's resolver.
func ResolveEnv(f Function, resolve func(Env) string) map[string]string {
	out := make(map[string]string, len(f.Env))
	for _, e := range f.Env {
		out[e.Name] = resolve(e)
	}
	return out
}

// GatewayResponse is an answer the gateway gives itself, before or instead of a function. The CDK
// stack configures API Gateway's gateway responses from this list and the local gateway answers the
// same way.
type GatewayResponse struct {
	Type   string // API Gateway's response type
	Status int
	Detail string
	// Headers sent with the answer (RFC 9110: a 401 names the scheme to authenticate with).
	Headers map[string]string
}

var bearer = map[string]string{"WWW-Authenticate": "Bearer"}

// GatewayResponses the REST API gives in problem+json.
var GatewayResponses = []GatewayResponse{
	{Type: "UNAUTHORIZED", Status: 401, Detail: "A valid bearer token and subscription key are required.", Headers: bearer},
	{Type: "ACCESS_DENIED", Status: 401, Detail: "The credentials do not grant access to this API.", Headers: bearer},
	{Type: "INVALID_API_KEY", Status: 401, Detail: "The subscription key is not valid for this API.", Headers: bearer},
	// One answer for both throttles API Gateway applies: the usage plan and the token route's.
	{Type: "THROTTLED", Status: 429, Detail: "Rate limit exceeded: 500 calls per minute per subscription key; the token endpoint takes 25 calls a second from all callers together."},
	{Type: "QUOTA_EXCEEDED", Status: 429, Detail: "Rate limit exceeded: 500 calls per minute per subscription key."},
	{Type: "MISSING_AUTHENTICATION_TOKEN", Status: 404, Detail: "No such route."},
	{Type: "REQUEST_TOO_LARGE", Status: 413, Detail: "The request is too large."},
	{Type: "DEFAULT_5XX", Status: 500, Detail: "An unexpected error has occurred, please try again later."},
}

// LookupGatewayResponse finds a gateway response by type.
func LookupGatewayResponse(t string) GatewayResponse {
	for _, g := range GatewayResponses {
		if g.Type == t {
			return g
		}
	}
	return GatewayResponse{Type: t, Status: 500, Detail: "An unexpected error has occurred."}
}
