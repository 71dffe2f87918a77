// Package deploy owns `cumulus deploy` and `cumulus package`: it turns a
// compiled configuration into the state an AWS account should be in
// ([Desire]), reads what the account holds now and diffs the two into a
// [Plan] of actions (create, update, unchanged, delete) with their reasons,
// and applies that plan in dependency order with the AWS SDK for Go v2
// ([Deployer.Apply]). It also builds the platform functions' Lambda code,
// the cumulus binary itself as a deterministic `bootstrap` zip ([Package]).
//
// Ownership: every resource deploy creates carries the tags cumulus:config
// (the deployment prefix) and cumulus:stage. A resource that exists under a
// wanted name without cumulus:config set to this prefix is never modified:
// the plan marks it a conflict and apply refuses. --prune deletes only
// resources that carry this configuration's tag.
//
// Idempotence comes from comparing content, not from remembering what was
// done: an ECS task definition carries the sha256 of its compiled document in
// the tag cumulus:sha256, so a new revision is registered only when the
// document changes; a Lambda function's code is updated only when the zip's
// sha256 differs from CodeSha256, its configuration only when a field
// differs. Because the plan is always made from what exists, a run that
// failed midway is finished by the next one.
//
// It does not own the artifacts' content (compiler/ does) nor the test fake
// of AWS (runtime/deploy/awsfake).
package deploy
