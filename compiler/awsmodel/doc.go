// Package awsmodel is test support for the compiler and for deploy's local
// fake of AWS (never the product at run time): independent oracles that say
// whether a document the compiler emits is a valid input for its AWS API. It owns three of them, so that a mistake has to get past all
// three to reach AWS:
//
//   - [Model.ValidateInput] checks a JSON document against AWS's own Smithy
//     2.0 API model (member names, JSON types, required members, enums,
//     length, range and pattern). These traits are the only local source for
//     most of these rules: the SDK checks required members only.
//   - [SDKRequestBody] and [SDKRequest] push the document through the real
//     AWS SDK for Go v2 client (its validation middleware and serializer) with
//     an HTTP client that records the request instead of sending it.
//   - [CheckWithCLI] runs the AWS CLI against an endpoint where nothing
//     listens, so botocore's own parameter validation is the judge.
//
// [DefinitionToAPI] turns a Data Pipeline definition file (objects,
// parameters, values) into the PutPipelineDefinition input, the way the AWS
// CLI does before it sends anything, so the first two oracles can check it.
//
// The models are read from the shared folder beside the repository
// (../shared/aws-models from the module root, see [ModelsDir]); the product
// never needs them at run time, and [TestModel] skips a test when they are
// absent. Nothing here talks to the network.
package awsmodel
