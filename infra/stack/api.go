package stack

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/portcommunity/cpu/shared/auth"
	"github.com/portcommunity/cpu/shared/catalog"
)

// restAPI builds the REST API: a route per catalog function, the REQUEST authorizer, the usage
// plan (keys are registered into it when the support tooling issues them), the gateway responses
// in problem+json, and a 405 for methods a known path does not serve.
// UsagePlanName is the stage's usage plan, found by name by the functions that register keys.
func UsagePlanName(stage string) string { return "cpu-" + stage + "-default" }

func restAPI(st awscdk.Stack, props Props, fns map[string]awslambda.Function) (awsapigateway.RestApi, awsapigateway.UsagePlan) {
	// Method throttling of the routes the catalog throttles (the public token endpoint), for all
	// callers together; API Gateway answers THROTTLED (429) beyond it.
	methods := map[string]*awsapigateway.MethodDeploymentOptions{}
	for _, fn := range props.Catalog.Functions {
		if r := fn.Trigger.Route; r != nil && r.Throttle != nil {
			methods[r.Path+"/"+strings.ToUpper(r.Method)] = &awsapigateway.MethodDeploymentOptions{
				ThrottlingRateLimit:  jsii.Number(r.Throttle.RatePerSecond),
				ThrottlingBurstLimit: jsii.Number(float64(r.Throttle.Burst)),
			}
		}
	}
	api := awsapigateway.NewRestApi(st, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName: jsii.String("cpu-" + props.Stage),
		Description: jsii.String("Certified Pick-up API (" + props.Stage + ")"),
		// The authorizer hands API Gateway the subscription key (Ocp-Apim-Subscription-Key) or the
		// client's usage key, so the usage plan counts the contract's header, not x-api-key.
		ApiKeySourceType: awsapigateway.ApiKeySourceType_AUTHORIZER,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:      jsii.String(props.Stage),
			TracingEnabled: jsii.Bool(true),
			MetricsEnabled: jsii.Bool(true),
			MethodOptions:  &methods,
		},
		CloudWatchRole: jsii.Bool(false),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
	})

	var authorizerFn awslambda.Function
	for _, fn := range props.Catalog.Functions {
		if fn.Authorizer {
			authorizerFn = fns[fn.Name]
		}
	}
	// Cached for five minutes per (token, key): both are identity sources, so a call missing
	// either is refused by API Gateway before the authorizer runs.
	keyed := awsapigateway.NewRequestAuthorizer(st, jsii.String("KeyAuthorizer"), &awsapigateway.RequestAuthorizerProps{
		Handler:         authorizerFn,
		IdentitySources: &[]*string{awsapigateway.IdentitySource_Header(jsii.String("Authorization")), awsapigateway.IdentitySource_Header(jsii.String(auth.KeyHeader))},
		ResultsCacheTtl: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	var optional awsapigateway.RequestAuthorizer
	optionalAuthorizer := func() awsapigateway.RequestAuthorizer {
		// The key is optional on /ingestion: it cannot be an identity source, and without it in the
		// cache key a cached answer could carry another key's usage identity, so no caching.
		if optional == nil {
			optional = awsapigateway.NewRequestAuthorizer(st, jsii.String("TokenAuthorizer"), &awsapigateway.RequestAuthorizerProps{
				Handler:         authorizerFn,
				IdentitySources: &[]*string{awsapigateway.IdentitySource_Header(jsii.String("Authorization"))},
				ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(0)),
			})
		}
		return optional
	}

	served := map[string]awsapigateway.IResource{}
	for _, fn := range props.Catalog.Functions {
		r := fn.Trigger.Route
		if r == nil {
			continue
		}
		res := api.Root().ResourceForPath(jsii.String(r.Path))
		opts := &awsapigateway.MethodOptions{}
		switch r.Auth {
		case catalog.TokenAndKey:
			opts = &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_CUSTOM, Authorizer: keyed, ApiKeyRequired: jsii.Bool(true)}
		case catalog.TokenOptionalKey:
			opts = &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_CUSTOM, Authorizer: optionalAuthorizer(), ApiKeyRequired: jsii.Bool(true)}
		}
		res.AddMethod(jsii.String(r.Method), awsapigateway.NewLambdaIntegration(fns[fn.Name], &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)}), opts)
		served[r.Path] = res
	}
	// A method a known path does not serve: explicit methods win over ANY, so ANY answers 405.
	for path, res := range served {
		res.AddMethod(jsii.String("ANY"), awsapigateway.NewMockIntegration(&awsapigateway.IntegrationOptions{
			RequestTemplates: &map[string]*string{"application/json": jsii.String(`{"statusCode": 405}`)},
			IntegrationResponses: &[]*awsapigateway.IntegrationResponse{{
				StatusCode:        jsii.String("405"),
				ResponseTemplates: &map[string]*string{"application/json": jsii.String(problemTemplate(405, "This method is not allowed on "+path+"."))},
				ResponseParameters: &map[string]*string{
					"method.response.header.Content-Type": jsii.String("'application/problem+json'"),
				},
			}},
		}), &awsapigateway.MethodOptions{
			MethodResponses: &[]*awsapigateway.MethodResponse{{
				StatusCode:         jsii.String("405"),
				ResponseParameters: &map[string]*bool{"method.response.header.Content-Type": jsii.Bool(true)},
			}},
		})
	}

	for _, gr := range catalog.GatewayResponses {
		headers := map[string]*string{"Content-Type": jsii.String("'application/problem+json'")}
		for k, v := range gr.Headers {
			headers[k] = jsii.String("'" + v + "'")
		}
		if gr.Status == 429 {
			headers["Retry-After"] = jsii.String("'" + strconv.Itoa(int(catalog.Plan.Window.Seconds())) + "'")
		}
		api.AddGatewayResponse(jsii.String("Gateway"+pascal(strings.ToLower(strings.ReplaceAll(gr.Type, "_", "-")))), &awsapigateway.GatewayResponseOptions{
			Type:            awsapigateway.ResponseType_Of(jsii.String(gr.Type)),
			StatusCode:      jsii.String(strconv.Itoa(gr.Status)),
			ResponseHeaders: &headers,
			Templates:       &map[string]*string{"application/json": jsii.String(problemTemplate(gr.Status, gr.Detail))},
		})
	}

	// 500 a minute per key. API Gateway throttles with a token bucket: a burst of 500 refilled at
	// 500/60 per second holds a key to 500 calls a minute under sustained load.
	plan := api.AddUsagePlan(jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
		Name:        jsii.String(UsagePlanName(props.Stage)),
		Description: jsii.String("Every subscription key and client usage key: 500 calls per minute"),
		Throttle: &awsapigateway.ThrottleSettings{
			RateLimit:  jsii.Number(float64(catalog.Plan.Calls) / catalog.Plan.Window.Seconds()),
			BurstLimit: jsii.Number(float64(catalog.Plan.Calls)),
		},
		ApiStages: &[]*awsapigateway.UsagePlanPerApiStage{{Api: api, Stage: api.DeploymentStage()}},
	})
	return api, plan
}
