"""AWS Organizations: the organization, member accounts, OUs and SCPs."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, Server

SEED_SCP = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "DenyDynamoDBOutsideVPC", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:SourceVpc": "vpc-xxxxxxxxx"},
            "StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/your-emergency-role"},
        },
    }],
}


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def org_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def test_organization_accounts_ous_and_scps(org_server):
    orgs = org_server.client("organizations")
    with pytest.raises(ClientError) as e:
        orgs.describe_organization()
    assert err(e)[0] == "AWSOrganizationsNotInUseException"
    o = orgs.create_organization(FeatureSet="ALL")["Organization"]
    assert o["MasterAccountId"] == ACCOUNT
    assert o["Id"].startswith("o-") and len(o["Id"]) == 12
    with pytest.raises(ClientError) as e:
        orgs.create_organization(FeatureSet="ALL")
    assert err(e)[0] == "AlreadyInOrganizationException"
    root = orgs.list_roots()["Roots"][0]
    assert root["Id"].startswith("r-") and root["PolicyTypes"] == []
    status = orgs.create_account(Email="prod@example.com", AccountName="prod")["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED"
    prod = status["AccountId"]
    assert len(prod) == 12 and prod != ACCOUNT
    assert {a["Id"] for a in orgs.list_accounts()["Accounts"]} == {ACCOUNT, prod}
    ou = orgs.create_organizational_unit(ParentId=root["Id"], Name="production")["OrganizationalUnit"]
    orgs.move_account(AccountId=prod, SourceParentId=root["Id"], DestinationParentId=ou["Id"])
    assert orgs.list_parents(ChildId=prod)["Parents"] == [{"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    pol = orgs.create_policy(Content=json.dumps(SEED_SCP), Description="Deny DynamoDB outside the VPC",
                             Name="vpc-only", Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]
    with pytest.raises(ClientError) as e:
        orgs.attach_policy(PolicyId=pol["Id"], TargetId=ou["Id"])
    assert err(e)[0] == "PolicyTypeNotEnabledException"
    orgs.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    full = [p["Id"] for p in orgs.list_policies_for_target(TargetId=prod, Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert full == ["p-FullAWSAccess"]
    orgs.attach_policy(PolicyId=pol["Id"], TargetId=ou["Id"])
    with pytest.raises(ClientError) as e:
        orgs.attach_policy(PolicyId=pol["Id"], TargetId=ou["Id"])
    assert err(e)[0] == "DuplicatePolicyAttachmentException"
    targets = orgs.list_targets_for_policy(PolicyId=pol["Id"])["Targets"]
    assert [(t["TargetId"], t["Type"]) for t in targets] == [(ou["Id"], "ORGANIZATIONAL_UNIT")]
    with pytest.raises(ClientError) as e:
        orgs.delete_policy(PolicyId=pol["Id"])
    assert err(e)[0] == "PolicyInUseException"
    with pytest.raises(ClientError) as e:
        orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=root["Id"])
    assert err(e)[0] == "ConstraintViolationException"
    assert orgs.describe_policy(PolicyId=pol["Id"])["Policy"]["Content"] == json.dumps(SEED_SCP)
