// Command cpuadmin is the support tooling: it onboards an entity (registration, client, subscription
// key, ingestion id), issues more credentials, and lists entities and their credentials, against the
// running local stack or a deployed stage.
//
//	cpuadmin onboard --entity company.json            # local stack (make run)
//	cpuadmin onboard --entity company.json --stage staging --usage-plan-id abc123 --client-secret-key arn:aws:kms:…
//	cpuadmin issue --id NXT200000009 [--stage ...]
//	cpuadmin list [--id NXT200000009] [--stage ...]
//	cpuadmin dead-letters [--stage ...] list|redrive|status   # the command queue's DLQ
//
// Secrets are printed once, to standard output, and never stored or logged. Client secrets are
// hashed with the stage's client-secret key: on a deployed stage it is derived from the stage's KMS
// HMAC key (stack output ClientSecretKeyArn; needs kms:GenerateMac on it), on the local stack it is
// read from .local/stack.json.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/google/uuid"
	"github.com/portcommunity/cpu/shared/awsedge"
	"github.com/portcommunity/cpu/shared/catalog"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/identity"
	"github.com/portcommunity/cpu/shared/localstack"
	"github.com/portcommunity/cpu/shared/onboarding"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/problem"
	"github.com/portcommunity/cpu/shared/release"
	"github.com/portcommunity/cpu/shared/store"
	"github.com/portcommunity/cpu/shared/webhook"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cpuadmin:", err)
		if pe := (*problem.Error)(nil); errors.As(err, &pe) {
			for f, msgs := range pe.Fields {
				for _, m := range msgs {
					fmt.Fprintf(os.Stderr, "  %s: %s\n", f, m)
				}
			}
		}
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: cpuadmin onboard --entity FILE | issue --id NXT… | list [--id NXT…] | channels --id NXT… | container --port BEANR --container CSQU3054383 | person --email E --first F --last L --entity NXT… [--role Admin|User] [--platform CommunityAdmin|AssetManager] | dead-letters [--queue commands] list|redrive|status  [--stage STAGE --usage-plan-id ID --client-secret-key ARN]")
}

type target struct {
	store   *store.Store
	plan    onboarding.UsagePlan
	secrets *identity.SecretHasher
	env     string
}

// connect reaches a stage's table; issuing credentials (issuing true) also needs its usage plan and
// its client-secret key.
func connect(ctx context.Context, stage, planID, secretKeyArn string, issuing bool) (target, error) {
	if stage == "" || stage == localstack.Stage {
		root, err := localstack.FindRoot()
		if err != nil {
			return target{}, err
		}
		raw, err := os.ReadFile(filepath.Join(root, ".local", "stack.json"))
		if err != nil {
			return target{}, fmt.Errorf("no local stack is running (start it with make run), or pass --stage: %w", err)
		}
		var st localstack.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return target{}, err
		}
		b := &localstack.Backends{DynamoEndpoint: st.DynamoEndpoint}
		t := target{store: store.New(b.DynamoDB(), st.Table), plan: onboarding.NoUsagePlan{}, env: st.Stage}
		if issuing {
			kind, value, err := identity.SplitSecretKeySetting(st.ClientSecretKey)
			if err == nil && kind != "local" {
				err = errors.New("not a local key")
			}
			if err == nil {
				t.secrets, err = identity.SecretHasherFromLocal(value)
			}
			if err != nil {
				return target{}, fmt.Errorf("client-secret key of the local stack in stack.json (restart it with make run): %w", err)
			}
		}
		return t, nil
	}
	cfg, err := awsedge.Config(ctx)
	if err != nil {
		return target{}, err
	}
	t := target{store: store.New(awsedge.DynamoDB(cfg), localstack.TableName(stage)), env: stage}
	if issuing {
		if planID == "" {
			return target{}, errors.New("--usage-plan-id is required for a deployed stage (the stack's UsagePlanId output)")
		}
		if secretKeyArn == "" {
			return target{}, errors.New("--client-secret-key is required for a deployed stage (the stack's ClientSecretKeyArn output)")
		}
		t.plan = awsedge.UsagePlan{Client: apigateway.NewFromConfig(cfg), PlanID: planID}
		// The same derivation as the token function's cold start, with the caller's credentials.
		if t.secrets, err = awsedge.SecretHasher(ctx, cfg, "kms:"+secretKeyArn); err != nil {
			return target{}, err
		}
	}
	return t, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usage()
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	stage := fs.String("stage", "", "deployed stage (staging, production); empty for the local stack")
	planID := fs.String("usage-plan-id", "", "API Gateway usage plan id of the stage (stack output UsagePlanId)")
	secretKey := fs.String("client-secret-key", "", "ARN of the stage's KMS HMAC key client secrets are hashed with (stack output ClientSecretKeyArn)")
	file := fs.String("entity", "", "JSON file of the entity to onboard (fields as contract §1)")
	id := fs.String("id", "", "nxtEntityId")
	queue := fs.String("queue", catalog.CommandQueue, "dead-letters: the catalog queue whose DLQ to list or redrive")
	port := fs.String("port", "BEANR", "container: the UN/LOCODE of the port")
	containerNo := fs.String("container", "", "container: the container number")
	email := fs.String("email", "", "person: the e-mail address")
	first := fs.String("first", "", "person: first name")
	last := fs.String("last", "", "person: last name")
	role := fs.String("role", "User", "person: Admin or User of its entity")
	platform := fs.String("platform", "", "person: a platform role (CommunityAdmin or AssetManager)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "onboard":
		if *file == "" {
			return usage()
		}
		raw, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		var e entity.Entity
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		t, err := connect(ctx, *stage, *planID, *secretKey, true)
		if err != nil {
			return err
		}
		svc := onboarding.Service{Store: t.store, Secrets: t.secrets, Plan: t.plan, Environment: t.env, Now: time.Now}
		issued, err := svc.Onboard(ctx, e)
		if err != nil {
			return err
		}
		printIssued(out, issued)
	case "issue":
		if *id == "" {
			return usage()
		}
		t, err := connect(ctx, *stage, *planID, *secretKey, true)
		if err != nil {
			return err
		}
		svc := onboarding.Service{Store: t.store, Secrets: t.secrets, Plan: t.plan, Environment: t.env, Now: time.Now}
		issued, err := svc.Issue(ctx, *id)
		if err != nil {
			return fmt.Errorf("issue credentials for %s (is it registered?): %w", *id, err)
		}
		printIssued(out, issued)
	case "list":
		t, err := connect(ctx, *stage, "", "", false)
		if err != nil {
			return err
		}
		return list(ctx, t.store, *id, out)
	case "channels":
		if *id == "" {
			return usage()
		}
		t, err := connect(ctx, *stage, "", "", false)
		if err != nil {
			return err
		}
		return channels(ctx, t.store, *id, time.Now(), out)
	case "person":
		t, err := connect(ctx, *stage, "", "", false)
		if err != nil {
			return err
		}
		return createPerson(ctx, t.store, *email, *first, *last, *id, *role, *platform, out)
	case "container":
		if *containerNo == "" {
			return usage()
		}
		t, err := connect(ctx, *stage, "", "", false)
		if err != nil {
			return err
		}
		return containerReport(ctx, t.store, strings.ToUpper(*port), release.NormalizeContainer(*containerNo), out)
	case "dead-letters":
		if fs.NArg() != 1 {
			return usage()
		}
		return deadLetters(ctx, fs.Arg(0), *queue, *stage, out)
	default:
		return usage()
	}
	return nil
}

// createPerson makes a console user for support: a community administrator or an asset manager
// (platform roles), or an entity's first admin. Its passphrase is drawn here and printed once; the
// person signs in with it and the e-mailed code.
func createPerson(ctx context.Context, st *store.Store, email, first, last, entityID, role, platform string, out io.Writer) error {
	email = people.FoldEmail(email)
	switch {
	case !people.ValidEmail(email):
		return errors.New("--email must be an e-mail address")
	case !people.ValidName(first) || !people.ValidName(last):
		return errors.New("--first and --last are required")
	case role != string(people.Admin) && role != string(people.User):
		return errors.New("--role is Admin or User")
	case platform != "" && platform != people.CommunityAdmin && platform != people.AssetManager:
		return errors.New("--platform is CommunityAdmin or AssetManager")
	}
	if _, err := st.Entity(ctx, entityID); err != nil {
		return fmt.Errorf("--entity %s: %w", entityID, err)
	}
	words := make([]string, 5)
	for i := range words {
		words[i] = people.NewCode()
	}
	passphrase := strings.Join(words, "-") // 35 characters of random digits
	hash, err := people.HashPassword(passphrase)
	if err != nil {
		return err
	}
	p := people.Person{UserID: uuid.NewString(), Email: email, FirstName: strings.TrimSpace(first), LastName: strings.TrimSpace(last), EntityID: entityID,
		Role: people.Role(role), Status: people.Active, CreatedAt: time.Now().UTC(), PasswordHash: hash}
	if platform != "" {
		p.Platform = []string{platform}
	}
	if err := st.CreatePerson(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(out, "person:     %s (%s)\nuser id:    %s\npassphrase: %s   (shown once: hand it over safely)\n", email, strings.Join(append([]string{role}, p.Platform...), ", "), p.UserID, passphrase)
	return nil
}

// containerReport shows support a container's lights, its active releases with their right and
// assignment (never the PIN's hash), the outcomes of every request on it and the gate's
// validations: what a dispute at the gate needs.
func containerReport(ctx context.Context, st *store.Store, port, container string, out io.Writer) error {
	cs, err := st.ContainerState(ctx, port, container)
	if err != nil {
		return err
	}
	history, err := st.History(ctx, port, container)
	if err != nil {
		return err
	}
	gates, err := st.Validations(ctx, port, container)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	v := cs.Visit
	fmt.Fprintf(w, "container %s in %s, terminal %q, last gate-out %s\n", container, port, v.TerminalCode, orDash(v.ClosedAt))
	l := v.Lights.OrStarting()
	for _, s := range []struct {
		name  release.LightName
		state release.LightState
	}{{release.LightCustoms, l.Customs}, {release.LightPolice, l.Police}, {release.LightDischarge, l.Discharge}, {release.LightTerminalRelease, l.TerminalRelease}} {
		fmt.Fprintf(w, "  %s\t%s\tsince %s\n", s.name, s.state.Value, orDash(s.state.At))
	}
	fmt.Fprintln(w, "ACTIVE RELEASE\tAGENT\tHOLDER\tSTATUS\tCOMMERCIAL\tASSIGNMENT\tPICKUP READY")
	for _, r := range cs.Releases {
		assigned := "-"
		if a := r.Right.Assignment; a != nil {
			assigned = fmt.Sprintf("#%d %s %s%s%s%s", a.Seq, a.Type, a.LicensePlate, a.DriverID, a.BargeENI, a.VisitID)
			if g, ok := cs.Guards[release.GuardKey(r.ReleaseID, a.Seq)]; ok {
				assigned += fmt.Sprintf(" (%d failed PIN attempts, locked %v)", len(g.Failures), g.Locked)
			}
		}
		ready := r.Readiness(time.Now())
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%v %v\n", r.ReleaseID, r.CarrierID, r.Right.Holder, r.Right.Status, r.Light, assigned, ready.Ready, ready.Reasons)
	}
	fmt.Fprintln(w, "OUTCOME AT\tREFERENCE\tREQUESTER\tACTION\tAPPLIED\tERRORS / WARNINGS")
	for _, o := range history {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v %v\n", o.At.Format(time.RFC3339), o.PublicReferenceID, o.Requester, o.Action, o.Applied, o.Errors, o.Warnings)
	}
	fmt.Fprintln(w, "GATE AT\tBY\tRELEASE\tPIN SHOWN\tIDENTIFIERS\tALLOWED\tREASONS")
	for _, g := range gates {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%v\t%v\t%v\n", g.At.Format(time.RFC3339), g.By, g.ReleaseID, g.PinGiven, g.Identifiers, g.Allowed, g.Reasons)
	}
	return nil
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func printIssued(out io.Writer, c identity.Issued) {
	fmt.Fprintf(out, "entity:           %s\n", c.Client.EntityID)
	fmt.Fprintf(out, "client_id:        %s\n", c.Client.ClientID)
	fmt.Fprintf(out, "client_secret:    %s   (shown once: it is stored only as a hash)\n", c.ClientSecret)
	fmt.Fprintf(out, "subscription key: %s   (shown once)\n", c.SubscriptionKey)
	fmt.Fprintf(out, "ingestion id:     %s   (environment %s)\n", c.Ingestion.ID, c.Ingestion.Environment)
}

func list(ctx context.Context, st *store.Store, id string, out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	if id == "" {
		es, err := st.Entities(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "NXT ENTITY ID\tNAME\tVAT\tROLES")
		for _, e := range es {
			fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", e.NxtEntityID, e.Name, e.VAT, e.Roles)
		}
		return nil
	}
	cs, ks, is, err := st.Credentials(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "KIND\tID\tENVIRONMENT\tCREATED")
	for _, c := range cs {
		fmt.Fprintf(w, "client\t%s\t\t%s\n", c.ClientID, c.CreatedAt.Format(time.RFC3339))
	}
	for _, k := range ks {
		fmt.Fprintf(w, "subscription key\t%s…\t%s\t%s\n", k.Prefix, k.Environment, k.CreatedAt.Format(time.RFC3339))
	}
	for _, in := range is {
		fmt.Fprintf(w, "ingestion id\t%s\t%s\t%s\n", in.ID, in.Environment, in.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// channels lists an entity's notification channels and their health: status, the failure streak,
// and the outcomes of the attempts of the last 24 hours (never a secret).
func channels(ctx context.Context, st *store.Store, id string, now time.Time, out io.Writer) error {
	chs, err := st.Channels(ctx, id)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintln(w, "CHANNEL ID\tNAME\tURL\tSTATUS\tFAILING SINCE\tLAST 24 H (delivered/retrying/failed)\tLAST ATTEMPT")
	for _, c := range chs {
		status := c.Status
		if c.Status == webhook.StatusDisabled {
			status += " (" + c.DisabledReason + ")"
		}
		failing := "-"
		if c.FailingSince != nil {
			failing = c.FailingSince.UTC().Format(time.RFC3339)
		}
		counts := map[webhook.Outcome]int{}
		last := "-"
		q := webhook.LogQuery{ChannelID: c.ID, From: now.Add(-24 * time.Hour), To: now.Add(time.Second), Limit: 1000, MaxRead: 10000}
		for read := 0; read < 10; read++ {
			page, err := st.Attempts(ctx, q)
			if err != nil {
				return err
			}
			for _, a := range page.Items {
				if last == "-" {
					last = a.Time.UTC().Format(time.RFC3339) + " " + string(a.Outcome)
				}
				counts[a.Outcome]++
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d/%d/%d\t%s\n", c.ID, c.Name, c.URL, status, failing,
			counts[webhook.Delivered], counts[webhook.Retrying], counts[webhook.Failed], last)
	}
	if len(chs) == 0 {
		fmt.Fprintln(w, "(no notification channels)")
	}
	return nil
}
