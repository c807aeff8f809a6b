// Command cdk is the CDK app: one stack per stage (make synth writes cdk.out offline; deploy with
// the CDK CLI, e.g. `npx aws-cdk@2 deploy cpu-staging --app cdk.out`).
package main

import (
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/portcommunity/cpu/infra/stack"
	"github.com/portcommunity/cpu/shared/catalog"
)

// Stages are deployed as separate stacks (the seed's UAT and PRD).
var Stages = []string{"staging", "production"}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String("cdk.out")})
	assets := os.Getenv("CPU_ASSET_DIR")
	if assets == "" {
		assets = filepath.Join(".build", "lambda")
	}
	ports := os.Getenv("CPU_ALLOWED_PORTS")
	if ports == "" {
		ports = "BEANR"
	}
	env := &awscdk.Environment{Account: envOrNil("CDK_DEFAULT_ACCOUNT"), Region: envOrNil("CDK_DEFAULT_REGION")}
	for _, stage := range Stages {
		stack.New(app, "cpu-"+stage, stack.Props{
			StackProps:   awscdk.StackProps{Env: env, Description: jsii.String("Certified Pick-up platform, " + stage)},
			Stage:        stage,
			Catalog:      catalog.Platform(),
			AssetDir:     assets,
			AllowedPorts: ports,
			MailDomain:   os.Getenv("CPU_MAIL_DOMAIN"),
			ConsoleURL:   os.Getenv("CPU_CONSOLE_URL"),
			ConsoleDir:   "shared/console/static",
		})
	}
	app.Synth(nil)
}

func envOrNil(name string) *string {
	if v := os.Getenv(name); v != "" {
		return jsii.String(v)
	}
	return nil
}
