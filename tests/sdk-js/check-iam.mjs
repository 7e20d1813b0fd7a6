// IAM and STS through the AWS SDK for JavaScript v3 (the Query protocol's XML, parsed by the
// SDK's own deserializers): RAMPART_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the
// account root's) and AWS_REGION. Prints "ok" or the first difference and exits with 1.
// tests/e2e/test_sdk_js.py runs it.
import {
  AddUserToGroupCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand,
  CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, DeleteConflictException,
  EntityAlreadyExistsException, GetGroupCommand, GetPolicyVersionCommand, GetRoleCommand,
  GetUserCommand, GetUserPolicyCommand, IAMClient, ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand, ListUserTagsCommand, ListUsersCommand,
  MalformedPolicyDocumentException, NoSuchEntityException, PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand, DeletePolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

import { check, clientOptions, expectError, main, rootCredentials, same } from "./lib.mjs";

const clientFor = (Client, credentials) => new Client(clientOptions(credentials));
const root = rootCredentials();
const iam = clientFor(IAMClient, root);
const sts = clientFor(STSClient, root);

const DYNAMO_READ = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: "*" }],
};

async function run() {
  const me = await sts.send(new GetCallerIdentityCommand({}));
  const account = me.Account;
  check(/^\d{12}$/.test(account) && me.Arn === `arn:aws:iam::${account}:root`, `GetCallerIdentity as the root (${me.Arn})`);

  const created = await iam.send(new CreateUserCommand({
    UserName: "sdk-js-alice", Path: "/sdk/", Tags: [{ Key: "team", Value: "db" }],
  }));
  const u = created.User;
  check(u.Arn === `arn:aws:iam::${account}:user/sdk/sdk-js-alice` && u.UserId.startsWith("AIDA"), "CreateUser's user");
  check(u.CreateDate instanceof Date && !Number.isNaN(u.CreateDate.getTime()), "CreateDate parses as a date");
  await expectError(iam.send(new CreateUserCommand({ UserName: "sdk-js-alice" })), EntityAlreadyExistsException, "a second CreateUser");
  const got = await iam.send(new GetUserCommand({ UserName: "sdk-js-alice" }));
  check(got.User.UserId === u.UserId && same(got.User.Tags, [{ Key: "team", Value: "db" }]), "GetUser");
  const tags = await iam.send(new ListUserTagsCommand({ UserName: "sdk-js-alice" }));
  check(same(tags.Tags, [{ Key: "team", Value: "db" }]) && tags.IsTruncated === false, "ListUserTags");
  const listed = await iam.send(new ListUsersCommand({ PathPrefix: "/sdk/" }));
  check(same(listed.Users.map((x) => x.UserName), ["sdk-js-alice"]), "ListUsers by path prefix");
  await expectError(iam.send(new GetUserCommand({ UserName: "nobody" })), NoSuchEntityException, "GetUser of nobody");

  await expectError(iam.send(new CreatePolicyCommand({ PolicyName: "bad", PolicyDocument: "{" })),
    MalformedPolicyDocumentException, "CreatePolicy with a broken document");
  const policy = (await iam.send(new CreatePolicyCommand({
    PolicyName: "sdk-js-read", PolicyDocument: JSON.stringify(DYNAMO_READ),
  }))).Policy;
  check(policy.Arn === `arn:aws:iam::${account}:policy/sdk-js-read` && policy.DefaultVersionId === "v1", "CreatePolicy");
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policy.Arn, VersionId: "v1" }));
  check(same(JSON.parse(decodeURIComponent(version.PolicyVersion.Document)), DYNAMO_READ),
    "GetPolicyVersion's document (URL-encoded, as IAM sends it)");
  await iam.send(new AttachUserPolicyCommand({ UserName: "sdk-js-alice", PolicyArn: policy.Arn }));
  const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: "sdk-js-alice" }));
  check(same(attached.AttachedPolicies, [{ PolicyName: "sdk-js-read", PolicyArn: policy.Arn }]), "ListAttachedUserPolicies");
  await expectError(iam.send(new DeletePolicyCommand({ PolicyArn: policy.Arn })), DeleteConflictException, "DeletePolicy while attached");
  const assume = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }] };
  await iam.send(new PutUserPolicyCommand({ UserName: "sdk-js-alice", PolicyName: "assume", PolicyDocument: JSON.stringify(assume) }));
  const inline = await iam.send(new GetUserPolicyCommand({ UserName: "sdk-js-alice", PolicyName: "assume" }));
  check(same(JSON.parse(decodeURIComponent(inline.PolicyDocument)), assume), "GetUserPolicy");

  await iam.send(new CreateGroupCommand({ GroupName: "sdk-js-readers" }));
  await iam.send(new AddUserToGroupCommand({ GroupName: "sdk-js-readers", UserName: "sdk-js-alice" }));
  const group = await iam.send(new GetGroupCommand({ GroupName: "sdk-js-readers" }));
  check(same(group.Users.map((x) => x.UserName), ["sdk-js-alice"]), "GetGroup lists the member");

  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "sdk-js-alice" }))).AccessKey;
  check(key.AccessKeyId.startsWith("AKIA") && key.Status === "Active" && key.SecretAccessKey.length === 40, "CreateAccessKey");
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: "sdk-js-alice" }));
  check(same(keys.AccessKeyMetadata.map((k) => k.AccessKeyId), [key.AccessKeyId]), "ListAccessKeys");

  const sim = await iam.send(new SimulatePrincipalPolicyCommand({
    PolicySourceArn: u.Arn, ActionNames: ["dynamodb:GetItem", "dynamodb:PutItem"],
  }));
  check(same(sim.EvaluationResults.map((r) => [r.EvalActionName, r.EvalDecision]),
    [["dynamodb:GetItem", "allowed"], ["dynamodb:PutItem", "implicitDeny"]]), "SimulatePrincipalPolicy");

  const trust = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: u.Arn }, Action: "sts:AssumeRole" }],
  };
  const role = (await iam.send(new CreateRoleCommand({
    RoleName: "sdk-js-role", AssumeRolePolicyDocument: JSON.stringify(trust), MaxSessionDuration: 7200,
  }))).Role;
  const gotRole = await iam.send(new GetRoleCommand({ RoleName: "sdk-js-role" }));
  check(gotRole.Role.RoleId === role.RoleId && role.RoleId.startsWith("AROA") && gotRole.Role.MaxSessionDuration === 7200, "GetRole");
  check(same(JSON.parse(decodeURIComponent(gotRole.Role.AssumeRolePolicyDocument)), trust), "the role's trust policy");

  // Alice's own key: the signature, her identity, then a role session.
  const alice = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  const aliceSts = clientFor(STSClient, alice);
  const who = await aliceSts.send(new GetCallerIdentityCommand({}));
  check(who.Arn === u.Arn && who.UserId === u.UserId, "GetCallerIdentity with the user's new key");
  const session = await aliceSts.send(new AssumeRoleCommand({
    RoleArn: role.Arn, RoleSessionName: "sdk-js", DurationSeconds: 900,
  }));
  const c = session.Credentials;
  check(c.AccessKeyId.startsWith("ASIA") && c.SessionToken && c.Expiration instanceof Date, "AssumeRole's credentials");
  check(session.AssumedRoleUser.Arn === `arn:aws:sts::${account}:assumed-role/sdk-js-role/sdk-js`, "AssumeRole's session ARN");
  const asRole = await clientFor(STSClient, {
    accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken,
  }).send(new GetCallerIdentityCommand({}));
  check(asRole.Arn === session.AssumedRoleUser.Arn, "GetCallerIdentity in the role session");
}

await main(run);
