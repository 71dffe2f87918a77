package deploy

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The narrow interfaces deploy uses of each service client, defined here
// where they are consumed; the SDK clients satisfy them.

// S3API is what deploy uses of S3.
type S3API interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetBucketNotificationConfiguration(context.Context, *s3.GetBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	PutBucketNotificationConfiguration(context.Context, *s3.PutBucketNotificationConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketNotificationConfigurationOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// LogsAPI is what deploy uses of CloudWatch Logs.
type LogsAPI interface {
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	ListTagsForResource(context.Context, *cloudwatchlogs.ListTagsForResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatchlogs.TagResourceInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.TagResourceOutput, error)
	DeleteLogGroup(context.Context, *cloudwatchlogs.DeleteLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteLogGroupOutput, error)
}

// ECSAPI is what deploy uses of ECS.
type ECSAPI interface {
	DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	CreateCluster(context.Context, *ecs.CreateClusterInput, ...func(*ecs.Options)) (*ecs.CreateClusterOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	ListTaskDefinitionFamilies(context.Context, *ecs.ListTaskDefinitionFamiliesInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionFamiliesOutput, error)
	ListTaskDefinitions(context.Context, *ecs.ListTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
}

// LambdaAPI is what deploy uses of Lambda.
type LambdaAPI interface {
	GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	CreateFunction(context.Context, *lambda.CreateFunctionInput, ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionCode(context.Context, *lambda.UpdateFunctionCodeInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	TagResource(context.Context, *lambda.TagResourceInput, ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	ListTags(context.Context, *lambda.ListTagsInput, ...func(*lambda.Options)) (*lambda.ListTagsOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	DeleteFunction(context.Context, *lambda.DeleteFunctionInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// EventsAPI is what deploy uses of EventBridge.
type EventsAPI interface {
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	ListTagsForResource(context.Context, *eventbridge.ListTagsForResourceInput, ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
	TagResource(context.Context, *eventbridge.TagResourceInput, ...func(*eventbridge.Options)) (*eventbridge.TagResourceOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
	DeleteRule(context.Context, *eventbridge.DeleteRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
}

// DynamoDBAPI is what deploy uses of DynamoDB: the engine's tables.
type DynamoDBAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
}

// APIGatewayAPI is what deploy uses of API Gateway (v2): the engine's HTTP
// API.
type APIGatewayAPI interface {
	GetApis(context.Context, *apigatewayv2.GetApisInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
	CreateApi(context.Context, *apigatewayv2.CreateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateApiOutput, error)
	UpdateApi(context.Context, *apigatewayv2.UpdateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateApiOutput, error)
	DeleteApi(context.Context, *apigatewayv2.DeleteApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteApiOutput, error)
	TagResource(context.Context, *apigatewayv2.TagResourceInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.TagResourceOutput, error)
	GetIntegrations(context.Context, *apigatewayv2.GetIntegrationsInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetIntegrationsOutput, error)
	CreateIntegration(context.Context, *apigatewayv2.CreateIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateIntegrationOutput, error)
	UpdateIntegration(context.Context, *apigatewayv2.UpdateIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateIntegrationOutput, error)
	GetRoutes(context.Context, *apigatewayv2.GetRoutesInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetRoutesOutput, error)
	CreateRoute(context.Context, *apigatewayv2.CreateRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateRouteOutput, error)
	UpdateRoute(context.Context, *apigatewayv2.UpdateRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateRouteOutput, error)
	DeleteRoute(context.Context, *apigatewayv2.DeleteRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.DeleteRouteOutput, error)
	GetStages(context.Context, *apigatewayv2.GetStagesInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStagesOutput, error)
	CreateStage(context.Context, *apigatewayv2.CreateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateStageOutput, error)
	UpdateStage(context.Context, *apigatewayv2.UpdateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.UpdateStageOutput, error)
}

// DataPipelineAPI is what deploy uses of AWS Data Pipeline.
type DataPipelineAPI interface {
	ListPipelines(context.Context, *datapipeline.ListPipelinesInput, ...func(*datapipeline.Options)) (*datapipeline.ListPipelinesOutput, error)
	DescribePipelines(context.Context, *datapipeline.DescribePipelinesInput, ...func(*datapipeline.Options)) (*datapipeline.DescribePipelinesOutput, error)
	CreatePipeline(context.Context, *datapipeline.CreatePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.CreatePipelineOutput, error)
	GetPipelineDefinition(context.Context, *datapipeline.GetPipelineDefinitionInput, ...func(*datapipeline.Options)) (*datapipeline.GetPipelineDefinitionOutput, error)
	ValidatePipelineDefinition(context.Context, *datapipeline.ValidatePipelineDefinitionInput, ...func(*datapipeline.Options)) (*datapipeline.ValidatePipelineDefinitionOutput, error)
	PutPipelineDefinition(context.Context, *datapipeline.PutPipelineDefinitionInput, ...func(*datapipeline.Options)) (*datapipeline.PutPipelineDefinitionOutput, error)
	ActivatePipeline(context.Context, *datapipeline.ActivatePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.ActivatePipelineOutput, error)
	DeletePipeline(context.Context, *datapipeline.DeletePipelineInput, ...func(*datapipeline.Options)) (*datapipeline.DeletePipelineOutput, error)
}

// STSAPI tells who the credentials are.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Clients are the service clients deploy talks to.
type Clients struct {
	S3           S3API
	Logs         LogsAPI
	ECS          ECSAPI
	Lambda       LambdaAPI
	Events       EventsAPI
	DataPipeline DataPipelineAPI
	STS          STSAPI
	IAM          IAMAPI
	SFN          SFNAPI
	DynamoDB     DynamoDBAPI
	APIGateway   APIGatewayAPI
}

// NewClients makes the SDK clients from one configuration (credentials,
// region, retryer, and BaseEndpoint when AWS_ENDPOINT_URL or -endpoint-url
// set it). With a custom endpoint, S3 uses path-style addressing, as
// LocalStack-like endpoints need.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if o.BaseEndpoint != nil {
				o.UsePathStyle = true
			}
		}),
		Logs:         cloudwatchlogs.NewFromConfig(cfg),
		ECS:          ecs.NewFromConfig(cfg),
		Lambda:       lambda.NewFromConfig(cfg),
		Events:       eventbridge.NewFromConfig(cfg),
		DataPipeline: datapipeline.NewFromConfig(cfg),
		STS:          sts.NewFromConfig(cfg),
		IAM:          iam.NewFromConfig(cfg),
		SFN:          sfn.NewFromConfig(cfg),
		DynamoDB:     dynamodb.NewFromConfig(cfg),
		APIGateway:   apigatewayv2.NewFromConfig(cfg),
	}
}

var (
	_ S3API           = (*s3.Client)(nil)
	_ LogsAPI         = (*cloudwatchlogs.Client)(nil)
	_ ECSAPI          = (*ecs.Client)(nil)
	_ LambdaAPI       = (*lambda.Client)(nil)
	_ EventsAPI       = (*eventbridge.Client)(nil)
	_ DataPipelineAPI = (*datapipeline.Client)(nil)
	_ STSAPI          = (*sts.Client)(nil)
	_ DynamoDBAPI     = (*dynamodb.Client)(nil)
	_ APIGatewayAPI   = (*apigatewayv2.Client)(nil)
)
