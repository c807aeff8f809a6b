package awsedge

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/portcommunity/cpu/shared/mail"
	"github.com/portcommunity/cpu/shared/people"
	"github.com/portcommunity/cpu/shared/signin"
)

// SESMailer sends e-mail with the SES v2 API: in AWS from the stack's verified identity through its
// configuration set; on the local stack to the SES stand-in (AWS_ENDPOINT_URL_SESV2).
type SESMailer struct {
	Client           *sesv2.Client
	From             string
	ConfigurationSet string
}

// Mailer reads MAIL_FROM and MAIL_CONFIGURATION_SET.
func Mailer(cfg aws.Config) SESMailer {
	return SESMailer{Client: sesv2.NewFromConfig(cfg), From: MustEnv("MAIL_FROM"), ConfigurationSet: MustEnv("MAIL_CONFIGURATION_SET")}
}

// Send implements mail.Sender.
func (m SESMailer) Send(ctx context.Context, msg mail.Message) (string, error) {
	if err := msg.Validate(); err != nil {
		return "", err
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: msg.To},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(msg.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(msg.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(msg.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.Client.SendEmail(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}

// ConsoleSessions verifies console session tokens with the TOKEN_VERIFIER key, for the audience
// "console".
func ConsoleSessions(ctx context.Context, cfg aws.Config) (signin.Sessions, error) {
	v, err := TokenVerifier(ctx, cfg, MustEnv("TOKEN_VERIFIER"), MustEnv("STAGE"))
	if err != nil {
		return signin.Sessions{}, err
	}
	return signin.Sessions{Verifier: v.ForAudience(people.ConsoleAudience), People: Store(cfg)}, nil
}
