"""Explaining decisions: the IAM policy simulator, `rampart policy explain`,
GetAccountAuthorizationDetails, and soft mode."""

import fcntl
import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, Server, binary, create_table

ALLOW_GET = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Reads", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"},
    {"Sid": "NotFromHere", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
]})


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def test_simulate_principal_policy_returns_decisions_and_statements(srv):
    iam = srv.client("iam")
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="reads", PolicyDocument=ALLOW_GET)
    arn = f"arn:aws:iam::{ACCOUNT}:user/sim"
    r = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["dynamodb:GetItem", "dynamodb:PutItem"],
                                      ResourceArns=[f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T"])
    by_action = {x["EvalActionName"]: x for x in r["EvaluationResults"]}
    assert by_action["dynamodb:GetItem"]["EvalDecision"] == "allowed"
    assert by_action["dynamodb:GetItem"]["MatchedStatements"][0]["SourcePolicyId"] == f"{arn}#reads"
    assert by_action["dynamodb:GetItem"]["MatchedStatements"][0]["SourcePolicyType"] == "user"
    assert by_action["dynamodb:PutItem"]["EvalDecision"] == "implicitDeny"
    r = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["dynamodb:GetItem"], ContextEntries=[
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.9"], "ContextKeyType": "ip"}])
    assert r["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"
    r = iam.simulate_custom_policy(PolicyInputList=[ALLOW_GET], ActionNames=["dynamodb:GetItem"])
    assert r["EvaluationResults"][0]["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as e:
        iam.simulate_custom_policy(PolicyInputList=["{nope"], ActionNames=["dynamodb:GetItem"])
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_account_authorization_details_lists_everything(srv):
    iam = srv.client("iam")
    iam.create_user(UserName="u1")
    iam.put_user_policy(UserName="u1", PolicyName="reads", PolicyDocument=ALLOW_GET)
    iam.create_group(GroupName="g1")
    iam.add_user_to_group(GroupName="g1", UserName="u1")
    d = iam.get_account_authorization_details()
    u = [x for x in d["UserDetailList"] if x["UserName"] == "u1"][0]
    assert u["GroupList"] == ["g1"]
    assert u["UserPolicyList"][0]["PolicyName"] == "reads"
    assert u["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Sid"] == "Reads"
    assert [g["GroupName"] for g in d["GroupDetailList"]] == ["g1"]


def test_policy_explain_command_reads_a_data_dir(srv):
    iam = srv.client("iam")
    iam.create_user(UserName="cli")
    iam.put_user_policy(UserName="cli", PolicyName="reads", PolicyDocument=ALLOW_GET)
    base = [str(binary()), "policy", "explain", "--data-dir", str(srv.data_dir),
            "--principal", f"arn:aws:iam::{ACCOUNT}:user/cli"]
    ok = subprocess.run(base + ["--action", "dynamodb:GetItem", "--json"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["decision"] == "Allow" and out["matched"][0]["sid"] == "Reads"
    no = subprocess.run(base + ["--action", "dynamodb:GetItem", "--source-ip", "203.0.113.7"],
                        capture_output=True, text=True, timeout=60)
    assert no.returncode == 1
    assert "with an explicit deny in an identity-based policy" in no.stdout
    bad = subprocess.run(base[:-1] + ["arn:aws:iam::111122223333:user/nobody", "--action", "x:y"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "cannot be found" in bad.stderr
    # The control socket the command used: private to the directory's owner,
    # and it answers a malformed request with an error, not a crash.
    sock_path = srv.data_dir / "rampart.sock"
    assert stat.S_IMODE(sock_path.stat().st_mode) == 0o600
    for request in [b"{nope\n", b"[]\n", b"\n"]:
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(10)
            c.connect(str(sock_path))
            c.sendall(request)
            reply = json.loads(c.makefile("rb").readline())
        assert "error" in reply, reply
    assert srv.client().list_tables()["TableNames"] is not None


def test_policy_explain_reads_the_data_dir_of_a_stopped_or_killed_server(tmp_path):
    s = Server(tmp_path / "data").start()
    iam = s.client("iam")
    iam.create_user(UserName="cli")
    iam.put_user_policy(UserName="cli", PolicyName="reads", PolicyDocument=ALLOW_GET)
    base = [str(binary()), "policy", "explain", "--data-dir", str(s.data_dir),
            "--principal", f"arn:aws:iam::{ACCOUNT}:user/cli", "--action", "dynamodb:GetItem", "--json"]
    # A second server on the same data directory is refused at once, and the
    # first one goes on serving.
    started = time.monotonic()
    second = subprocess.run([str(binary()), "serve", "--data-dir", str(s.data_dir), "--listen", "127.0.0.1:0"],
                            capture_output=True, text=True, timeout=60, env=s.env)
    assert second.returncode != 0 and "in use by another Rampart process" in second.stderr, second.stderr
    assert time.monotonic() - started < 8
    assert s.client().list_tables()["TableNames"] is not None
    # Stopped: no socket left, the command opens the directory itself.
    s.stop()
    assert not (s.data_dir / "rampart.sock").exists()
    ok = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["matched"][0]["sid"] == "Reads"
    # Killed: the socket file stays behind; nobody answers on it, so the
    # command again reads the directory, and a new server replaces it.
    s.start()
    s.stop(signal.SIGKILL)
    assert (s.data_dir / "rampart.sock").exists()
    ok = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    s.start()
    try:
        ok = subprocess.run(base, capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
    finally:
        s.stop()


def test_soft_mode_logs_would_be_denials_without_enforcing(tmp_path):
    s = Server(tmp_path / "data", env={"RAMPART_SOFT_MODE_ACCOUNTS": ACCOUNT, "RAMPART_LOG": "warn"}).start()
    try:
        iam = s.client("iam")
        iam.create_user(UserName="soft")
        key = iam.create_access_key(UserName="soft")["AccessKey"]
        ddb = s.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        assert "TableNames" in ddb.list_tables()
    finally:
        s.stop()
    log = s.read_log()
    assert "soft mode: would deny, allowed" in log
    assert "dynamodb:ListTables" in log


def test_bad_soft_mode_setting_is_refused_by_name(tmp_path):
    r = subprocess.run([str(binary()), "serve", "--data-dir", str(tmp_path / "d"), "--soft-mode-account", "12"],
                       capture_output=True, text=True, timeout=30,
                       env={"RAMPART_ROOT_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert "soft_mode_accounts" in r.stderr


def hold_directory(path, seconds):
    """Holds the data directory's lock (the `flock` Rampart's storage engine
    takes) from this process for `seconds`, as an offline `rampart policy
    explain` does while it reads a stopped server's directory."""
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, time.monotonic() + seconds


def test_a_briefly_held_directory_delays_a_start_or_an_explain_instead_of_failing_it(tmp_path):
    s = Server(tmp_path / "data").start()
    iam = s.client("iam")
    iam.create_user(UserName="cli")
    iam.put_user_policy(UserName="cli", PolicyName="reads", PolicyDocument=ALLOW_GET)
    s.stop()
    # The server starts while the directory is held for a second: it waits,
    # then serves (until session 8 it failed at once with "in use").
    fd, until = hold_directory(s.data_dir, 1.0)
    started = time.monotonic()
    s.start(wait=False)
    time.sleep(max(0.0, until - time.monotonic()))
    assert s.proc.poll() is None, s.read_log()
    os.close(fd)
    s.wait_ready()
    assert time.monotonic() - started >= 1.0
    assert s.client().list_tables()["TableNames"] is not None
    s.stop()
    # `policy explain` on a stopped server's directory that another process
    # holds for a second (and answers no socket): it waits, then reads it.
    fd, until = hold_directory(s.data_dir, 1.0)
    explain = subprocess.Popen(
        [str(binary()), "policy", "explain", "--data-dir", str(s.data_dir),
         "--principal", f"arn:aws:iam::{ACCOUNT}:user/cli", "--action", "dynamodb:GetItem", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(max(0.0, until - time.monotonic()))
    assert explain.poll() is None
    os.close(fd)
    out, err = explain.communicate(timeout=60)
    assert explain.returncode == 0, err
    assert json.loads(out)["matched"][0]["sid"] == "Reads"
    # Held for good (the lock is never let go): the start gives up after its
    # wait with the reason, and so does explain.
    fd, _ = hold_directory(s.data_dir, 0)
    try:
        second = subprocess.run([str(binary()), "serve", "--data-dir", str(s.data_dir), "--listen", "127.0.0.1:0"],
                                capture_output=True, text=True, timeout=60, env=s.env)
        assert second.returncode != 0 and "in use by another Rampart process" in second.stderr, second.stderr
        refused = subprocess.run(
            [str(binary()), "policy", "explain", "--data-dir", str(s.data_dir),
             "--principal", f"arn:aws:iam::{ACCOUNT}:user/cli", "--action", "dynamodb:GetItem"],
            capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "in use" in refused.stderr, refused.stderr
    finally:
        os.close(fd)
