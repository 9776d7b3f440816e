"""The whole local stack: DynamoDB Local, localstripe, an SMTP sink, the API and web/.

`make run` runs it in the foreground; the test suite starts its own on free ports.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import boto3

from devstack import dynamodb_local, npm, s3_bucket, table, tokens

ROOT = Path(__file__).resolve().parent.parent
INSTALL_DIR = ROOT / ".local" / "dynamodb-local"  # shared by make run and the tests


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    dynamodb_port: int = 8001
    stripe_port: int = 8420
    smtp_port: int = 1025
    api_port: int = 8000
    web_port: int = 8080
    s3_port: int = 4566
    local_dir: Path = ROOT / ".local"
    in_memory: bool = False
    table_name: str = "steward"
    export_bucket: str = "steward-exports"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> StackConfig:
        base = cls()
        return replace(
            base,
            host=env.get("STEWARD_HOST", base.host),
            dynamodb_port=int(env.get("STEWARD_DYNAMODB_PORT", base.dynamodb_port)),
            stripe_port=int(env.get("STEWARD_STRIPE_PORT", base.stripe_port)),
            smtp_port=int(env.get("STEWARD_SMTP_PORT", base.smtp_port)),
            api_port=int(env.get("STEWARD_API_PORT", base.api_port)),
            web_port=int(env.get("STEWARD_WEB_PORT", base.web_port)),
            s3_port=int(env.get("STEWARD_S3_PORT", base.s3_port)),
            local_dir=Path(env.get("STEWARD_LOCAL_DIR", str(base.local_dir))),
            table_name=env.get("STEWARD_TABLE_NAME", base.table_name),
            export_bucket=env.get("STEWARD_EXPORT_BUCKET", base.export_bucket),
        )

    @classmethod
    def on_ports(cls, ports: list[int], local_dir: Path, table_name: str) -> StackConfig:
        """An in-memory stack on these six ports (DynamoDB, Stripe, SMTP, API, web, S3)."""
        dynamodb, stripe, smtp, api, web, s3 = ports
        return cls(
            dynamodb_port=dynamodb,
            stripe_port=stripe,
            smtp_port=smtp,
            api_port=api,
            web_port=web,
            s3_port=s3,
            local_dir=local_dir,
            in_memory=True,
            table_name=table_name,
        )

    @classmethod
    def on_free_ports(cls, local_dir: Path) -> StackConfig:
        return cls.on_ports(free_ports(6), local_dir, "steward-test")

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url(self.api_port)

    @property
    def stripe_url(self) -> str:
        return self.url(self.stripe_port)

    @property
    def dynamodb_url(self) -> str:
        return self.url(self.dynamodb_port)

    @property
    def web_url(self) -> str:
        return self.url(self.web_port)

    @property
    def s3_url(self) -> str:
        return self.url(self.s3_port)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Stack:
    config: StackConfig
    webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(24))
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = field(default_factory=list)

    @property
    def jwt_dir(self) -> Path:
        return self.config.local_dir / "jwt"

    @property
    def mail_dir(self) -> Path:
        return self.config.local_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.config.local_dir / "logs"

    def app_env(self) -> dict[str, str]:
        """The environment the API runs with locally; tests use it in-process too."""
        c = self.config
        return {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "STEWARD_TABLE_NAME": c.table_name,
            "STEWARD_DYNAMODB_ENDPOINT": c.dynamodb_url,
            "STEWARD_STRIPE_SECRET_KEY": "sk_test_steward_local",
            "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk_test_steward_local",
            "STEWARD_STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STEWARD_STRIPE_API_BASE": c.stripe_url,
            "STEWARD_STRIPE_JS_URL": f"{c.stripe_url}/js.stripe.com/v3/",
            "STEWARD_JWT_ISSUER": tokens.ISSUER,
            "STEWARD_JWT_AUDIENCE": tokens.AUDIENCE,
            "STEWARD_JWKS_URL": f"{c.web_url}/.well-known/jwks.json",
            "STEWARD_SMTP_HOST": c.host,
            "STEWARD_SMTP_PORT": str(c.smtp_port),
            "STEWARD_MAIL_TRANSPORT": "smtp",
            "STEWARD_PUBLIC_URL": c.api_url,
            "STEWARD_ORG_EIN": "12-3456789",  # fictional, for local receipts
            "STEWARD_SIGNING_KEY": self.local_secret("signing-key"),
            "STEWARD_SIGNING_KEY_ID": "local1",
            "STEWARD_IDENTITY_KEY": self.local_secret("identity-key"),
            "STEWARD_S3_ENDPOINT": c.s3_url,
            "STEWARD_EXPORT_BUCKET": c.export_bucket,
            # the demo page's origin (also as localhost), plus any the environment adds
            "STEWARD_ALLOWED_ORIGINS": ",".join(
                [c.web_url, f"http://localhost:{c.web_port}", os.environ.get("STEWARD_ALLOWED_ORIGINS", "")]
            ),
            "STEWARD_SITE_URL": f"{c.web_url}/",  # the demo page: the service's pages link back to it
            # The demo campaign: gifts sent with campaign "spring-appeal" count toward its goal.
            "STEWARD_CAMPAIGNS": "spring-appeal=Spring appeal=1000000=usd",
            **self.extra_env,
        }

    def local_secret(self, name: str) -> str:
        """Kept under the local folder so links in old local emails keep working."""
        path = self.config.local_dir / name
        if not path.exists():
            self.config.local_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def dynamodb_client(self) -> object:
        env = self.app_env()
        return boto3.client(
            "dynamodb",
            endpoint_url=self.config.dynamodb_url,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    # -- lifecycle -------------------------------------------------------------------

    def start(self, announce: bool = False) -> None:
        c = self.config
        self.start_storage()
        self.start_stripe()
        self.register_webhook()

        self.start_smtp()
        self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "devstack.api_server",
                "--project-dir",
                str(ROOT),
                "--host",
                c.host,
                "--port",
                str(c.api_port),
                "--stage",
                "dev",
            ],
            c.api_port,
            env=self.app_env(),
        )
        self._wait_health()
        self._spawn("poller", [sys.executable, "-m", "devstack.stream_poller"], None, env=self.app_env())
        vendor = npm.ensure_assets()
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "devstack.web_server",
                "--host",
                c.host,
                "--port",
                str(c.web_port),
                "--api-url",
                c.api_url,
                "--jwks",
                str(self.jwt_dir / "jwks.json"),
                "--vendor",
                str(vendor),
            ],
            c.web_port,
        )
        if announce:
            self.announce()

    def start_storage(self, s3: bool = True) -> None:
        """DynamoDB Local with the table, and the S3 server with the export bucket (the
        benchmarks start only these, some without S3)."""
        c = self.config
        busy = [
            p
            for p in (c.dynamodb_port, c.stripe_port, c.smtp_port, c.api_port, c.web_port, c.s3_port)
            if _listening(c.host, p)
        ]
        if busy:
            raise RuntimeError(f"ports already in use: {busy}; stop the other stack or set STEWARD_*_PORT")
        for folder in (c.local_dir, self.mail_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        tokens.ensure_key(self.jwt_dir)
        install = dynamodb_local.ensure_installed(INSTALL_DIR)
        db_path = None if c.in_memory else c.local_dir / "dynamodb"
        if db_path:
            db_path.mkdir(parents=True, exist_ok=True)
        # DynamoDB Local writes a metadata file into its working folder: keep it under local_dir.
        command = dynamodb_local.command(install, c.dynamodb_port, db_path)
        self._spawn("dynamodb", command, c.dynamodb_port, cwd=c.local_dir)
        table.ensure_table(self.dynamodb_client(), c.table_name)
        if s3:
            self.start_s3()

    def start_stripe(self) -> None:
        """localstripe, with its state under local_dir (the benchmarks start it with storage)."""
        c = self.config
        stripe_state = c.local_dir / ("localstripe-test.pickle" if c.in_memory else "localstripe.pickle")
        stripe_cmd = [
            sys.executable,
            "-m",
            "devstack.localstripe_runner",
            str(stripe_state),
            "--port",
            str(c.stripe_port),
        ]
        self._spawn("localstripe", stripe_cmd + (["--from-scratch"] if c.in_memory else []), c.stripe_port)

    def start_smtp(self) -> None:
        c = self.config
        command = [
            sys.executable,
            "-m",
            "devstack.smtp_sink",
            "--host",
            c.host,
            "--port",
            str(c.smtp_port),
            "--folder",
            str(self.mail_dir),
        ]
        self._spawn("smtp", command, c.smtp_port)

    def start_s3(self) -> None:
        """moto's standalone server speaks S3 over HTTP (in memory); the export bucket is
        made at start, as infra/resources.json makes it on AWS."""
        c = self.config
        self._spawn(
            "s3", [sys.executable, "-m", "moto.server", "-H", c.host, "-p", str(c.s3_port)], c.s3_port
        )
        s3_bucket.ensure_bucket(self.s3_client(), c.export_bucket)

    def s3_client(self) -> Any:
        env = self.app_env()
        return s3_bucket.client(
            self.config.s3_url, env["AWS_REGION"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        )

    def stop_process(self, name: str) -> None:
        """Stop one piece (tests use it to take the SMTP sink down)."""
        for entry in [e for e in self.processes if e[0] == name]:
            _, process, log = entry
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
            log.close()
            self.processes.remove(entry)

    def register_webhook(self) -> None:
        data = urllib.parse.urlencode(
            {
                "url": f"{self.config.api_url}/webhooks/stripe",
                "secret": self.webhook_secret,
            }
        ).encode()
        request = urllib.request.Request(f"{self.config.stripe_url}/_config/webhooks/steward", data=data)
        urllib.request.urlopen(request, timeout=10).close()

    def announce(self) -> None:
        c = self.config
        print(
            f"DynamoDB Local  {c.dynamodb_url}  table {c.table_name} "
            f"({'in memory' if c.in_memory else c.local_dir / 'dynamodb'})"
        )
        print(f"localstripe     {c.stripe_url}  webhook -> {c.api_url}/webhooks/stripe")
        print(f"SMTP sink       smtp://{c.host}:{c.smtp_port}  mail in {self.mail_dir}")
        print(f"S3 (moto)       {c.s3_url}  bucket {c.export_bucket} (in memory)")
        print("Outbox          stream poller drives the stream handlers and the sweeps")
        print(f"API             {c.api_url}  (health {c.api_url}/health)")
        print(f"Web             {c.web_url}  (demo site; finance dashboard {c.web_url}/staff/)")
        print(f"Logs            {self.log_dir}")
        print("Staff token:    .venv/bin/steward token --role finance")
        sys.stdout.flush()

    def stop(self) -> None:
        for _, process, _ in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, process, log in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
        self.processes.clear()

    def failed(self) -> str | None:
        for name, process, _ in self.processes:
            if process.poll() is not None:
                return name
        return None

    # -- helpers ---------------------------------------------------------------------

    def _spawn(
        self,
        name: str,
        command: list[str],
        port: int | None,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        """Start a piece and wait until it listens on `port` (or, without one, says "ready")."""
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.processes.append((name, process, log))
        deadline = time.monotonic() + 60
        log_path = self.log_dir / f"{name}.log"
        while not (_listening(self.config.host, port) if port else b"ready" in log_path.read_bytes()):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not start on port {port}:\n{tail}")
            time.sleep(0.1)

    def _wait_health(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.config.api_url}/health", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API did not answer /health within 60 s")
            time.sleep(0.2)
