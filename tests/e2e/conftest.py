"""End-to-end harness: starts `rampart serve` on a free loopback port with a
fresh data directory and drives it with boto3 and the AWS CLI, exactly as a
user would (only --endpoint-url differs from talking to AWS)."""

import base64
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCOUNT = "111122223333"
REGION = "us-east-1"


def binary() -> Path:
    """The server binary the test command built (RAMPART_BIN overrides)."""
    explicit = os.environ.get("RAMPART_BIN")
    if explicit:
        return Path(explicit)
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "rampart"
        if p.exists():
            return p
    raise RuntimeError("build the server first: cargo build --bin rampart")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One running `rampart serve` process."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None,
                 root_key: str | None = None, region: str = REGION):
        self.data_dir = data_dir
        self.region = region
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.root_key = root_key or base64.b64encode(os.urandom(32)).decode()
        self.env = dict(os.environ)
        self.env.update({
            "RAMPART_ROOT_ACCESS_KEY_ID": ACCESS_KEY,
            "RAMPART_ROOT_SECRET_ACCESS_KEY": SECRET_KEY,
            "RAMPART_ACCOUNT_ID": ACCOUNT,
            "RAMPART_ROOT_KEY": self.root_key,
            "RAMPART_LOG": "warn",
        })
        if env:
            self.env.update(env)
        self.proc = None
        self.log = None

    def start(self, wait: bool = True):
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [str(binary()), "serve", "--data-dir", str(self.data_dir),
             "--listen", f"127.0.0.1:{self.port}", "--region", self.region],
            env=self.env, stdout=self.log, stderr=self.log,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.read_log()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not become ready")

    def read_log(self) -> str:
        try:
            return (self.data_dir.parent / f"server-{self.port}.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
        return self.proc.returncode

    def client(self, service: str = "dynamodb", access_key: str = ACCESS_KEY,
               secret_key: str = SECRET_KEY, **kw):
        cfg = Config(retries={"max_attempts": 0}, **kw)
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=cfg,
        )

    def cli(self, *args, check: bool = True, env: dict | None = None):
        """Runs the AWS CLI against this server; returns the CompletedProcess."""
        e = dict(os.environ)
        e.update({
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_PAGER": "",
        })
        e.pop("AWS_PROFILE", None)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        r = subprocess.run(["aws", "--endpoint-url", self.endpoint, "--output", "json", *args],
                           env=e, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A server shared by the tests of a session (tests use their own tables)."""
    d = tmp_path_factory.mktemp("rampart")
    s = Server(d / "data").start()
    yield s
    s.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A server of the test's own, for tests that restart or kill it."""
    s = Server(tmp_path / "data")
    yield s
    s.stop(signal.SIGKILL)


@pytest.fixture
def own_server(tmp_path):
    """A started server of the test's own: an empty account, nothing shared with other tests."""
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


@pytest.fixture
def ddb(server):
    return server.client()


_counter = [0]


@pytest.fixture
def table_name(request):
    """A table name unique within the session."""
    _counter[0] += 1
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return f"t{_counter[0]}-{base}"


def create_table(ddb, name, hash_key=("pk", "S"), range_key=None, **kw):
    attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    extra_attrs = kw.pop("extra_attributes", [])
    attrs.extend({"AttributeName": n, "AttributeType": t} for n, t in extra_attrs)
    if "ProvisionedThroughput" not in kw and "BillingMode" not in kw:
        kw["BillingMode"] = "PAY_PER_REQUEST"
    return ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema, **kw)


def error_of(excinfo):
    """A boto3 ClientError's (code, message, HTTP status)."""
    r = excinfo.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def raw(server):
    """A client without botocore's own parameter checks, so the server's are seen."""
    return server.client(parameter_validation=False)
