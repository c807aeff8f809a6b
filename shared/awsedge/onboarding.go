package awsedge

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/onboarding"
	"github.com/portcommunity/cpu/shared/signin"
)

// consoleEdge is what the onboarding functions share, each part made only when the catalog gives
// the function its setting: console sessions (TOKEN_VERIFIER), e-mail (MAIL_FROM).
type consoleEdge struct {
	log      *slog.Logger
	cfg      aws.Config
	sessions signin.Sessions
	mail     mail.Sender
	console  string
}

func bootConsole() consoleEdge {
	_, log, cfg := Boot()
	e := consoleEdge{log: log, cfg: cfg, console: os.Getenv("CONSOLE_URL")}
	if os.Getenv("TOKEN_VERIFIER") != "" {
		s, err := ConsoleSessions(context.Background(), cfg)
		if err != nil {
			Fatal(log, "token verifier", err)
		}
		e.sessions = s
	}
	if os.Getenv("MAIL_FROM") != "" {
		e.mail = Mailer(cfg)
	}
	return e
}

// OnboardingRegistration wires the registration's handlers.
func OnboardingRegistration() (*onboarding.Registration, *slog.Logger) {
	e := bootConsole()
	return &onboarding.Registration{Store: Store(e.cfg), Mail: e.mail, Sessions: e.sessions, ConsoleURL: e.console, Now: time.Now, Log: e.log}, e.log
}

// OnboardingPeople wires an entity's people handlers.
func OnboardingPeople() (*onboarding.People, *slog.Logger) {
	e := bootConsole()
	return &onboarding.People{Store: Store(e.cfg), Mail: e.mail, Sessions: e.sessions, ConsoleURL: e.console, Now: time.Now, Log: e.log}, e.log
}

// OnboardingSubscriptions wires the marketplace's handlers: the secret box for those that seal or
// open keys (CHANNEL_SECRET_KEY), the usage plan for those that make keys (USAGE_PLAN).
func OnboardingSubscriptions() (*onboarding.Subscriptions, *slog.Logger) {
	e := bootConsole()
	h := &onboarding.Subscriptions{Store: Store(e.cfg), Mail: e.mail, Sessions: e.sessions, Stage: MustEnv("STAGE"), ConsoleURL: e.console, Now: time.Now, Log: e.log}
	var err error
	if os.Getenv("CHANNEL_SECRET_KEY") != "" {
		if h.Box, err = SecretBox(e.cfg); err != nil {
			Fatal(e.log, "secret box (it seals the subscription keys)", err)
		}
	}
	if h.Plan, err = UsagePlanNamed(context.Background(), e.cfg, os.Getenv("USAGE_PLAN")); err != nil {
		Fatal(e.log, "usage plan", err)
	}
	return h, e.log
}
