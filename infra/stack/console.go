package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"
)

// consoleSite hosts the web console (contract §13): its static files in a private bucket that only
// CloudFront reads (origin access control), and the onboarding API behind the same distribution
// (/onboarding/*, never cached), so the console calls it on its own origin: no CORS, and the
// console's Content-Security-Policy allows 'self' only.
func consoleSite(st awscdk.Stack, props Props, api awsapigateway.RestApi, removal awscdk.RemovalPolicy) awscloudfront.Distribution {
	bucket := awss3.NewBucket(st, jsii.String("ConsoleBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	headers := awscloudfront.NewResponseHeadersPolicy(st, jsii.String("ConsoleHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{Override: jsii.Bool(true),
				ContentSecurityPolicy: jsii.String("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")},
			ContentTypeOptions:      &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:            &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:          &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true)},
		},
	})
	dist := awscloudfront.NewDistribution(st, jsii.String("Console"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("CPu " + props.Stage + " console"),
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			ResponseHeadersPolicy: headers,
		},
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			"/onboarding/*": {
				Origin:               awscloudfrontorigins.NewRestApiOrigin(api, nil),
				ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
				AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
				CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
				OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			},
		},
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
	})
	if props.ConsoleDir != "" {
		awss3deployment.NewBucketDeployment(st, jsii.String("ConsoleFiles"), &awss3deployment.BucketDeploymentProps{
			Sources:           &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(props.ConsoleDir), nil)},
			DestinationBucket: bucket,
			Distribution:      dist,
			DistributionPaths: jsii.Strings("/*"),
		})
	}
	awscdk.NewCfnOutput(st, jsii.String("ConsoleDomain"), &awscdk.CfnOutputProps{
		Value:       dist.DistributionDomainName(),
		Description: jsii.String("The console's CloudFront domain (point the CPU_CONSOLE_URL domain at it)"),
	})
	return dist
}
