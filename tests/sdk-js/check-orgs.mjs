// AWS Organizations (JSON 1.1) through the AWS SDK for JavaScript v3: RAMPART_ENDPOINT,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the management account's root) and AWS_REGION.
// Prints "ok" or the first difference and exits with 1. tests/e2e/test_sdk_js.py runs it.
import {
  AlreadyInOrganizationException, AttachPolicyCommand, AWSOrganizationsNotInUseException,
  CreateAccountCommand, CreateOrganizationalUnitCommand, CreateOrganizationCommand,
  CreatePolicyCommand, DescribeOrganizationCommand, DescribePolicyCommand, EnablePolicyTypeCommand,
  ListAccountsCommand, ListParentsCommand, ListPoliciesForTargetCommand, ListRootsCommand,
  MoveAccountCommand, OrganizationsClient, PolicyTypeNotEnabledException,
} from "@aws-sdk/client-organizations";

import { check, clientOptions, expectError, main, rootCredentials, same } from "./lib.mjs";

const orgs = new OrganizationsClient(clientOptions(rootCredentials()));
const SCP = {
  Version: "2012-10-17",
  Statement: [{ Sid: "NoTableDeletes", Effect: "Deny", Action: "dynamodb:DeleteTable", Resource: "*" }],
};

async function run() {
  await expectError(orgs.send(new DescribeOrganizationCommand({})), AWSOrganizationsNotInUseException, "DescribeOrganization before one exists");
  const org = (await orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }))).Organization;
  check(/^o-[a-z0-9]{10}$/.test(org.Id) && org.FeatureSet === "ALL", `CreateOrganization (${org.Id})`);
  await expectError(orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" })), AlreadyInOrganizationException, "a second CreateOrganization");
  const described = (await orgs.send(new DescribeOrganizationCommand({}))).Organization;
  check(described.Id === org.Id && described.MasterAccountId === org.MasterAccountId, "DescribeOrganization");
  const root = (await orgs.send(new ListRootsCommand({}))).Roots[0];
  check(root.Id.startsWith("r-") && same(root.PolicyTypes, []), "ListRoots");
  const status = (await orgs.send(new CreateAccountCommand({ Email: "prod@example.com", AccountName: "prod" }))).CreateAccountStatus;
  check(status.State === "SUCCEEDED" && /^\d{12}$/.test(status.AccountId), "CreateAccount");
  const accounts = (await orgs.send(new ListAccountsCommand({}))).Accounts;
  check(same(accounts.map((a) => a.Id).sort(), [org.MasterAccountId, status.AccountId].sort()), "ListAccounts");
  check(accounts.every((a) => a.JoinedTimestamp instanceof Date && a.Status === "ACTIVE"), "accounts' fields");
  const ou = (await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: root.Id, Name: "production" }))).OrganizationalUnit;
  await orgs.send(new MoveAccountCommand({ AccountId: status.AccountId, SourceParentId: root.Id, DestinationParentId: ou.Id }));
  const parents = (await orgs.send(new ListParentsCommand({ ChildId: status.AccountId }))).Parents;
  check(same(parents, [{ Id: ou.Id, Type: "ORGANIZATIONAL_UNIT" }]), "ListParents after MoveAccount");
  const policy = (await orgs.send(new CreatePolicyCommand({
    Content: JSON.stringify(SCP), Description: "no deletes", Name: "no-deletes", Type: "SERVICE_CONTROL_POLICY",
  }))).Policy.PolicySummary;
  await expectError(orgs.send(new AttachPolicyCommand({ PolicyId: policy.Id, TargetId: ou.Id })),
    PolicyTypeNotEnabledException, "AttachPolicy before SCPs are enabled");
  await orgs.send(new EnablePolicyTypeCommand({ RootId: root.Id, PolicyType: "SERVICE_CONTROL_POLICY" }));
  await orgs.send(new AttachPolicyCommand({ PolicyId: policy.Id, TargetId: ou.Id }));
  const onOu = (await orgs.send(new ListPoliciesForTargetCommand({ TargetId: ou.Id, Filter: "SERVICE_CONTROL_POLICY" }))).Policies;
  check(same(onOu.map((p) => p.Id).sort(), ["p-FullAWSAccess", policy.Id].sort()), `ListPoliciesForTarget: FullAWSAccess and ours (got ${onOu.map((p) => p.Id)})`);
  const full = (await orgs.send(new DescribePolicyCommand({ PolicyId: policy.Id }))).Policy;
  check(same(JSON.parse(full.Content), SCP) && full.PolicySummary.AwsManaged === false, "DescribePolicy");
}

await main(run);
