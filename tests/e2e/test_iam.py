"""IAM and STS through boto3 and the AWS CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def iam(server):
    return server.client("iam")


@pytest.fixture
def sts(server):
    return server.client("sts")


def uniq(request, prefix):
    return f"{prefix}-{abs(hash(request.node.name)) % 10**8}"


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}


def test_root_caller_identity(sts):
    r = sts.get_caller_identity()
    assert r["Account"] == ACCOUNT
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert r["UserId"] == ACCOUNT


def test_user_lifecycle_and_errors(iam, request):
    name = uniq(request, "user")
    u = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "db"}])["User"]
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=name)
    assert err(e) == ("EntityAlreadyExists", f"User with name {name} already exists.", 409)
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "team", "Value": "db"}]
    assert name in [x["UserName"] for x in iam.list_users()["Users"]]
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name + "-nope")
    assert err(e) == ("NoSuchEntity", f"The user with name {name}-nope cannot be found.", 404)
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    got = iam.get_user_policy(UserName=name, PolicyName="inline")
    assert got["PolicyDocument"] == POLICY
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert err(e) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    iam.delete_user_policy(UserName=name, PolicyName="inline")
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert err(e)[0] == "NoSuchEntity"


def test_malformed_policy_is_refused(iam, request):
    name = uniq(request, "user")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument="{not json")
    assert err(e)[0] == "MalformedPolicyDocument"
    assert err(e)[2] == 400
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_managed_policy_versions(iam, request):
    name = uniq(request, "pol")
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    for i in range(4):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(POLICY), SetAsDefault=(i == 3))
        assert v["PolicyVersion"]["VersionId"] == f"v{i + 2}"
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(POLICY))
    assert err(e)[0] == "LimitExceeded"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v5"
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    assert err(e) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    versions = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert sorted(versions) == ["v1", "v2", "v3", "v4"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"]
    assert doc == POLICY


def test_groups_roles_and_attachments(iam, request):
    user, group, role = uniq(request, "u"), uniq(request, "g"), uniq(request, "r")
    arn = iam.create_policy(PolicyName=uniq(request, "p"), PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    r = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert r["AssumeRolePolicyDocument"] == trust
    assert r["RoleId"].startswith("AROA")
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [g["GroupName"] for g in ents["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in ents["PolicyRoles"]] == [role]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert err(e)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=user, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/missing")
    assert err(e) == ("NoSuchEntity", f"Policy arn:aws:iam::{ACCOUNT}:policy/missing does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName=group)
    assert err(e)[0] == "DeleteConflict"
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_role(RoleName=role)
    iam.delete_policy(PolicyArn=arn)


def test_access_keys_limit_and_use(server, iam, request):
    name = uniq(request, "keys")
    iam.create_user(UserName=name)
    k1 = iam.create_access_key(UserName=name)["AccessKey"]
    k2 = iam.create_access_key(UserName=name)["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["SecretAccessKey"]) == 40
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=name)
    assert err(e) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert listed == {k1["AccessKeyId"]: "Active", k2["AccessKeyId"]: "Active"}
    # The user's key authenticates: STS says who it is.
    sts = server.client("sts", access_key=k1["AccessKeyId"], secret_key=k1["SecretAccessKey"])
    me = sts.get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    # …and without a policy it may do nothing in DynamoDB.
    ddb = server.client(access_key=k1["AccessKeyId"], secret_key=k1["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        ddb.list_tables()
    code, msg, status = err(e)
    assert (code, status) == ("AccessDeniedException", 400)
    assert msg == (f"User: arn:aws:iam::{ACCOUNT}:user/{name} is not authorized to perform: dynamodb:ListTables "
                   f"on resource: arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/* because no identity-based policy "
                   f"allows the dynamodb:ListTables action")
    last = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert last["UserName"] == name
    assert last["AccessKeyLastUsed"]["ServiceName"] in ("sts", "dynamodb")
    # Deactivated keys stop working at once.
    iam.update_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert err(e)[0] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert err(e) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"])
    iam.delete_access_key(UserName=name, AccessKeyId=k2["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_session_token_credentials_work_and_bad_tokens_do_not(server, sts):
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    import boto3
    from botocore.config import Config
    good = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 0}))
    assert good.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    bad = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"][:-4] + "AAAA", config=Config(retries={"max_attempts": 0}))
    with pytest.raises(ClientError) as e:
        bad.get_caller_identity()
    assert err(e)[0] == "InvalidClientTokenId"
    missing = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           config=Config(retries={"max_attempts": 0}))
    with pytest.raises(ClientError) as e:
        missing.get_caller_identity()
    assert err(e)[0] == "InvalidClientTokenId"


def test_seed_cli_commands_create_and_attach_policy(server, tmp_path):
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AccessToSpecificVPCEOnly", "Effect": "Deny", "Action": "dynamodb:*",
                       "Resource": f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/*",
                       "Condition": {"StringNotEquals": {"aws:sourceVpce": "vpce-0c37d7b4a1d7a5b3c"}}}],
    }
    f = tmp_path / "policy.json"
    f.write_text(json.dumps(doc))
    server.cli("iam", "create-user", "--user-name", "dynauser")
    server.cli("iam", "create-role", "--role-name", "dynarole", "--assume-role-policy-document",
               json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    out = json.loads(server.cli("iam", "create-policy", "--policy-name", "vpcepolicy", "--policy-document", f"file://{f}").stdout)
    assert out["Policy"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/vpcepolicy"
    server.cli("iam", "attach-user-policy", "--user-name", "dynauser", "--policy-arn", f"arn:aws:iam::{ACCOUNT}:policy/vpcepolicy")
    server.cli("iam", "attach-role-policy", "--role-name", "dynarole", "--policy-arn", f"arn:aws:iam::{ACCOUNT}:policy/vpcepolicy")
    listed = json.loads(server.cli("iam", "list-attached-user-policies", "--user-name", "dynauser").stdout)
    assert listed["AttachedPolicies"] == [{"PolicyName": "vpcepolicy", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/vpcepolicy"}]
    bad = server.cli("iam", "attach-user-policy", "--user-name", "nobody", "--policy-arn",
                     f"arn:aws:iam::{ACCOUNT}:policy/vpcepolicy", check=False)
    assert bad.returncode != 0 and "NoSuchEntity" in bad.stderr
    who = json.loads(server.cli("sts", "get-caller-identity").stdout)
    assert who["Account"] == ACCOUNT


def totp(seed_b32: str, step: int) -> str:
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def test_virtual_mfa_device_enables_and_gates_session_tokens(server, iam, request):
    import time
    name = uniq(request, "mfa")
    iam.create_user(UserName=name)
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial = dev["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/{name}"
    seed = dev["Base32StringSeed"].decode()
    step = int(time.time()) // 30
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName=name, SerialNumber=serial, AuthenticationCode1="000000", AuthenticationCode2="000000")
    assert err(e)[0] == "InvalidAuthenticationCode"
    iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    listed = iam.list_mfa_devices(UserName=name)["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = server.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber=serial, TokenCode="123456" if totp(seed, step) != "123456" else "654321")
    assert err(e)[0] == "AccessDenied"
    creds = sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed, int(time.time()) // 30))["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert err(e)[0] == "DeleteConflict"
    iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == [] or all(
        d["SerialNumber"] != serial for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"])


def test_access_key_last_used_survives_a_restart(fresh_server):
    import datetime
    s = fresh_server.start()
    iam = s.client("iam")
    iam.create_user(UserName="lastused")
    key = iam.create_access_key(UserName="lastused")["AccessKey"]
    before = datetime.datetime.now(datetime.timezone.utc)
    user_sts = s.client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assert user_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/lastused"
    # A graceful stop writes what the minute-wise flush had not yet.
    assert s.stop() == 0
    s.start()
    last = s.client("iam").get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == "lastused"
    used = last["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts"
    assert used["Region"] == "us-east-1"
    # Reported to the minute, like AWS.
    assert used["LastUsedDate"].second == 0
    assert before.replace(second=0, microsecond=0) <= used["LastUsedDate"] <= datetime.datetime.now(datetime.timezone.utc)


def read_png(data: bytes):
    """Checks a PNG's structure (signature, chunk CRCs, IHDR, IEND) and returns
    (width, height, rows of 0/1 pixels, 1 = black) for 1-bit grayscale."""
    import struct
    import zlib
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        at += 12 + length
    assert at == len(data)
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color, interlace) == (1, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width + 7) // 8 + 1
    assert len(raw) == stride * height
    rows = []
    for y in range(height):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0  # no filter
        rows.append([0 if line[1 + x // 8] & (0x80 >> (x % 8)) else 1 for x in range(width)])
    return width, height, rows


def test_create_virtual_mfa_device_writes_a_qr_code_png_with_the_cli(server, tmp_path, request):
    name = uniq(request, "qr")
    out = tmp_path / "qr.png"
    r = json.loads(server.cli("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
                              "--outfile", str(out), "--bootstrap-method", "QRCodePNG").stdout)
    serial = r["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/{name}"
    # The CLI took both bootstrap fields out of its output and wrote the image.
    assert "QRCodePNG" not in r["VirtualMFADevice"] and "Base32StringSeed" not in r["VirtualMFADevice"]
    width, height, rows = read_png(out.read_bytes())
    assert width == height and 150 <= width <= 1200
    # A QR code: a 4-module white quiet zone, then three finder patterns (7x7 modules,
    # black ring, white ring, 3x3 black core) at the top-left, top-right and bottom-left.
    assert all(p == 0 for p in rows[0]) and rows[0] == rows[-1]
    first = next(y for y in range(height) if any(rows[y]))
    left = rows[first].index(1)
    assert first == left
    run = rows[first][left:].index(0)  # the finder's top edge is 7 modules wide
    assert run % 7 == 0
    module = run // 7
    modules = (width - 2 * left) // module
    assert (width - 2 * left) % module == 0 and modules % 4 == 1 and modules >= 21

    def finder_at(mx, my):
        for dy in range(7):
            for dx in range(7):
                ring = max(abs(dx - 3), abs(dy - 3))
                expect = 0 if ring == 2 else 1
                px, py = left + (mx + dx) * module + module // 2, left + (my + dy) * module + module // 2
                if rows[py][px] != expect:
                    return False
        return True

    assert finder_at(0, 0) and finder_at(modules - 7, 0) and finder_at(0, modules - 7)
    assert not finder_at(modules - 7, modules - 7)
    # Where a QR decoder is installed (zbar-tools), read the key URI back.
    import shutil
    import subprocess
    if shutil.which("zbarimg"):
        text = subprocess.run(["zbarimg", "-q", "--raw", str(out)], capture_output=True, text=True,
                              check=True).stdout.strip()
        assert text.startswith(f"otpauth://totp/{name}@{ACCOUNT}?secret=") and text.endswith("&issuer=Rampart")
        assert len(text.split("secret=")[1].split("&")[0]) == 32
    # boto3 gets both fields, base64-decoded, and the seed is the one the device verifies.
    iam = server.client("iam")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name + "b")["VirtualMFADevice"]
    assert dev["QRCodePNG"][:8] == b"\x89PNG\r\n\x1a\n"
    read_png(dev["QRCodePNG"])
    assert len(dev["Base32StringSeed"].decode()) == 32
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])


def test_delegated_admin_bounded_by_iam_condition_keys(server, iam, request):
    # The IAM User Guide's delegation pattern: a delegated administrator may create and change
    # users only with a given permissions boundary (iam:PermissionsBoundary), attach only one
    # managed policy (iam:PolicyARN), tag only with allowed tags (aws:RequestTag/aws:TagKeys),
    # act on users by their tags (aws:ResourceTag), and never edit or remove the boundary.
    boundary = iam.create_policy(PolicyName=uniq(request, "XCompanyBoundaries"),
                                 PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    readonly = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
    admin, bounded, loose = uniq(request, "maria"), uniq(request, "bounded"), uniq(request, "loose")
    delegation = {"Version": "2012-10-17", "Statement": [
        {"Sid": "CreateOrChangeOnlyWithBoundary", "Effect": "Allow",
         "Action": ["iam:CreateUser", "iam:DeleteUserPolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy",
                    "iam:CreateRole", "iam:PutRolePolicy"],
         "Resource": "*", "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "AttachOnlyReadOnly", "Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": readonly},
                       "StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Sid": "TagOnlyTeam", "Effect": "Allow", "Action": ["iam:TagUser", "iam:UntagUser"], "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}},
        {"Sid": "KeysForDbTeam", "Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "db"}}},
        {"Sid": "NoBoundaryPolicyEdit", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"], "Resource": boundary},
        {"Sid": "NoBoundaryUserDelete", "Effect": "Deny",
         "Action": ["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"], "Resource": "*"},
    ]}
    iam.create_user(UserName=admin)
    iam.put_user_policy(UserName=admin, PolicyName="delegation", PolicyDocument=json.dumps(delegation))
    key = iam.create_access_key(UserName=admin)["AccessKey"]
    maria = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    iam.create_user(UserName=loose)

    def denied(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert err(e)[0] == "AccessDenied" and err(e)[2] == 403, err(e)

    denied(maria.create_user, UserName=bounded)
    denied(maria.create_user, UserName=bounded, PermissionsBoundary=readonly)
    assert uniq(request, "bounded") not in [u["UserName"] for u in iam.list_users()["Users"]]
    maria.create_user(UserName=bounded, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=bounded)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    maria.put_user_policy(UserName=bounded, PolicyName="p", PolicyDocument=json.dumps(POLICY))
    denied(maria.put_user_policy, UserName=loose, PolicyName="p", PolicyDocument=json.dumps(POLICY))
    maria.attach_user_policy(UserName=bounded, PolicyArn=readonly)
    denied(maria.attach_user_policy, UserName=bounded, PolicyArn=boundary)
    denied(maria.attach_user_policy, UserName=loose, PolicyArn=readonly)
    assert iam.list_attached_user_policies(UserName=loose)["AttachedPolicies"] == []
    denied(maria.delete_user_permissions_boundary, UserName=bounded)
    denied(maria.create_policy_version, PolicyArn=boundary, PolicyDocument=json.dumps(POLICY))
    # Tags: only the key "team", and access keys only for users tagged team=db.
    denied(maria.create_access_key, UserName=bounded)
    denied(maria.tag_user, UserName=bounded, Tags=[{"Key": "team", "Value": "db"}, {"Key": "cost", "Value": "1"}])
    maria.tag_user(UserName=bounded, Tags=[{"Key": "team", "Value": "db"}])
    assert maria.create_access_key(UserName=bounded)["AccessKey"]["UserName"] == bounded
    denied(maria.create_access_key, UserName=loose)
    denied(maria.untag_user, UserName=bounded, TagKeys=["team", "cost"])
    maria.untag_user(UserName=bounded, TagKeys=["team"])
    assert iam.list_user_tags(UserName=bounded)["Tags"] == []
    denied(maria.create_access_key, UserName=bounded)
    # Roles alike: created only with the boundary, their policies changed only under it.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
    role, loose_role = uniq(request, "role"), uniq(request, "loose-role")
    denied(maria.create_role, RoleName=role, AssumeRolePolicyDocument=trust)
    maria.create_role(RoleName=role, AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    maria.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(POLICY))
    iam.create_role(RoleName=loose_role, AssumeRolePolicyDocument=trust)
    denied(maria.put_role_policy, RoleName=loose_role, PolicyName="p", PolicyDocument=json.dumps(POLICY))
    assert iam.list_role_policies(RoleName=loose_role)["PolicyNames"] == []
    denied(maria.delete_role_permissions_boundary, RoleName=role)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


def test_iam_guide_tag_examples_control_access_to_users(server, iam, request):
    # The four policies of the IAM User Guide's "Controlling access to and for IAM users and
    # roles using IAM resource tags", verbatim, each attached to its own user.
    guide = {
        "delete-terminated": {"Effect": "Allow", "Action": "iam:DeleteUser", "Resource": "*",
                              "Condition": {"StringLike": {"iam:ResourceTag/status": "terminated"}}},
        "tags-of-employees": {"Effect": "Allow", "Action": ["iam:ListUserTags", "iam:TagUser", "iam:UntagUser"],
                              "Resource": "*",
                              "Condition": {"StringLike": {"iam:ResourceTag/jobFunction": "employee"}}},
        "department-tags": {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
                            "Condition": {"StringLike": {"aws:RequestTag/department": ["HR", "CS"]}}},
        "untag-temporary": {"Effect": "Allow", "Action": "iam:UntagUser", "Resource": "*",
                            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["temporary"]}}},
    }
    callers = {}
    for name, statement in guide.items():
        caller = uniq(request, name)
        iam.create_user(UserName=caller)
        iam.put_user_policy(UserName=caller, PolicyName="guide",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        key = iam.create_access_key(UserName=caller)["AccessKey"]
        callers[name] = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    leaver, staff = uniq(request, "leaver"), uniq(request, "staff")
    iam.create_user(UserName=leaver, Tags=[{"Key": "status", "Value": "terminated"},
                                           {"Key": "temporary", "Value": "x"}])
    iam.create_user(UserName=staff, Tags=[{"Key": "jobFunction", "Value": "employee"},
                                          {"Key": "temporary", "Value": "y"}])

    def denied(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        assert err(e)[0] == "AccessDenied", err(e)

    # iam:ResourceTag on the user acted on.
    denied(callers["delete-terminated"].delete_user, UserName=staff)
    denied(callers["tags-of-employees"].list_user_tags, UserName=leaver)
    assert {t["Key"] for t in callers["tags-of-employees"].list_user_tags(UserName=staff)["Tags"]} == {
        "jobFunction", "temporary"}
    callers["tags-of-employees"].tag_user(UserName=staff, Tags=[{"Key": "level", "Value": "2"}])
    # aws:RequestTag: only department HR or CS.
    callers["department-tags"].tag_user(UserName=staff, Tags=[{"Key": "department", "Value": "CS"}])
    denied(callers["department-tags"].tag_user, UserName=staff, Tags=[{"Key": "department", "Value": "Ops"}])
    denied(callers["department-tags"].tag_user, UserName=staff, Tags=[{"Key": "level", "Value": "9"}])
    # aws:TagKeys: only the key "temporary" may be removed.
    denied(callers["untag-temporary"].untag_user, UserName=leaver, TagKeys=["temporary", "status"])
    callers["untag-temporary"].untag_user(UserName=leaver, TagKeys=["temporary"])
    assert [t["Key"] for t in iam.list_user_tags(UserName=leaver)["Tags"]] == ["status"]
    assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=staff)["Tags"]} == {
        "jobFunction": "employee", "temporary": "y", "level": "2", "department": "CS"}
    # The leaver is deletable by tag; the staff member was not.
    callers["delete-terminated"].delete_user(UserName=leaver)
    assert leaver not in [u["UserName"] for u in iam.list_users()["Users"]]
