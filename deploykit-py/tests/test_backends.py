"""``deploykit.Backends``: the real backends from keyword arguments or a deploykit.toml,
against local stand-ins (moto for AWS, a git repository made here, small HTTP fakes for
GitHub and Slack). Nothing leaves 127.0.0.1."""

import http.server
import importlib
import json
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import deploykit

REGION = "us-west-2"
TOKEN = "ghp_kwargSecretToken0123456789"
WEBHOOK_SECRET = "hooksecretXYZ"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static credentials for moto, no instance metadata lookups, no stray configuration."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "DEPLOYKIT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    for var in ("GITHUB_TOKEN", "GH_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def moto_url(aws_env: None) -> Iterator[str]:
    """A moto server on a free port with `prod-idp` (desired 2) and `prod-worker` (1)."""
    server_mod: Any = importlib.import_module("moto.server")
    boto3: Any = importlib.import_module("boto3")
    port = free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # moto keeps its state per process: start from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    try:
        kw = {"endpoint_url": url, "region_name": REGION}
        ec2 = boto3.client("ec2", **kw)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a"
        )["Subnet"]["SubnetId"]
        ec2.create_launch_template(
            LaunchTemplateName="deploykit-test",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        )
        asg = boto3.client("autoscaling", **kw)
        for name, desired in (("prod-idp", 2), ("prod-worker", 1)):
            asg.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateName": "deploykit-test", "Version": "$Latest"},
                MinSize=0,
                MaxSize=10,
                DesiredCapacity=desired,
                VPCZoneIdentifier=subnet,
            )
        yield url
    finally:
        server.stop()


def test_backends_from_keyword_arguments_read_the_moto_fleet(
    moto_url: str, tmp_path: Path
) -> None:
    backends = deploykit.Backends(
        aws_region=REGION, aws_endpoint_url=moto_url, journal_dir=tmp_path / "state"
    )
    size = backends.group_size("prod", "idp")
    assert (size.desired, size.max) == (2, 10)
    servers = backends.servers("prod")
    assert len(servers) == 3
    assert {s.group for s in servers} == {"prod-idp", "prod-worker"}


def test_backends_from_config_file_read_the_moto_fleet(moto_url: str, tmp_path: Path) -> None:
    config = tmp_path / "deploykit.toml"
    config.write_text(f'[aws]\nregion = "{REGION}"\nendpoint_url = "{moto_url}"\n')
    backends = deploykit.Backends.from_config(config, journal_dir=tmp_path / "state")
    assert backends.group_size("prod", "worker").desired == 1
    assert f"config_file='{config}'" in repr(backends)


def test_async_forms_work_on_the_real_backends(moto_url: str, tmp_path: Path) -> None:
    import asyncio

    backends = deploykit.Backends(
        aws_region=REGION, aws_endpoint_url=moto_url, journal_dir=tmp_path / "state"
    )

    async def main() -> int:
        size = await backends.group_size_async("prod", "idp")
        return size.desired

    assert asyncio.run(main()) == 2


def test_a_deploy_follows_the_configured_calendar(
    aws_env: None, repo: Path, tmp_path: Path
) -> None:
    """The same deploykit.toml rules a deploy from Python as from the CLI: here a freeze."""
    config = tmp_path / "deploykit.toml"
    config.write_text(
        "[cadence]\n"
        'freezes = [{ start = 2000-01-01, end = 2099-12-31, reason = "the test freeze" }]\n'
    )
    backends = deploykit.Backends.from_config(
        config, repo_dir=repo, journal_dir=tmp_path / "state"
    )
    outcome = backends.deploy("idp", "prod", pr=7)
    assert outcome.status == "stopped", outcome
    assert "the test freeze" in (outcome.reason or ""), outcome.reason


def test_a_bad_configuration_names_the_key(aws_env: None, tmp_path: Path) -> None:
    config = tmp_path / "deploykit.toml"
    config.write_text('[aws]\nregoin = "us-east-1"\n')
    with pytest.raises(deploykit.InvalidInputError) as caught:
        deploykit.Backends.from_config(config, journal_dir=tmp_path / "state")
    assert "aws.regoin" in str(caught.value)
    with pytest.raises(deploykit.InvalidInputError) as caught:
        deploykit.Backends(monitor="grafana", journal_dir=tmp_path / "state")
    assert "monitor.kind" in str(caught.value)


def test_an_unknown_app_is_not_found(aws_env: None, tmp_path: Path) -> None:
    backends = deploykit.Backends(journal_dir=tmp_path / "state")
    with pytest.raises(deploykit.NotFoundError, match="no app"):
        backends.changelog("nope", "HEAD~1", "HEAD")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a base commit and two changelog-trailered commits."""
    path = tmp_path / "idp"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.gov")
    git(path, "config", "user.name", "Dev")
    git(path, "commit", "-q", "--allow-empty", "-m", "Base")
    git(
        path, "commit", "-q", "--allow-empty", "-m",
        "Fix the remember-device checkbox (#101)\n\n"
        "changelog: Bug Fixes, Login, Fix the remember-device checkbox",
    )
    git(
        path, "commit", "-q", "--allow-empty", "-m",
        "Add a PIV/CAC hint (#102)\n\nchangelog: User-Facing Improvements, PIV/CAC, Add a hint",
    )
    return path


def test_changelog_from_a_local_git_repository(
    aws_env: None, repo: Path, tmp_path: Path
) -> None:
    backends = deploykit.Backends(
        repo_dir=repo, github_repo="18F/identity-idp", journal_dir=tmp_path / "state"
    )
    changelog = backends.changelog("idp", "HEAD~2", "HEAD")
    assert "Fix the remember-device checkbox" in changelog.text
    assert "Add a hint" in changelog.text
    assert "https://github.com/18F/identity-idp/pull/101" in changelog.text


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers GitHub's `GET /repos/o/r/pulls/7` and prod's `GET /prod/api/deploy.json`, and
    records Slack webhook posts."""

    posts: list[tuple[str, dict[str, Any]]] = []

    def do_GET(self) -> None:
        if self.path == "/prod/api/deploy.json":
            self.send_json(
                {"env": "prod", "branch": "stages/prod", "git_sha": "c" * 40, "user": "root"}
            )
        elif self.path.endswith("/pulls/7"):
            self.send_json(
                {
                    "number": 7,
                    "title": "Deploy RC 112 to Production",
                    "body": "",
                    "state": "open",
                    "merged_at": None,
                    "merge_commit_sha": None,
                    "head": {"ref": "stages/rc-2026-11-24", "sha": "a" * 40},
                    "base": {"ref": "stages/prod", "sha": "b" * 40},
                    "labels": [],
                    "html_url": "https://github.com/18F/identity-idp/pull/7",
                    "user": {"login": "release-manager"},
                    "mergeable": True,
                }
            )
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def send_json(self, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Recorder.posts.append((self.path, json.loads(self.rfile.read(length) or b"{}")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_http() -> Iterator[str]:
    Recorder.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_slack_webhook_receives_the_pending_release_announcement(
    aws_env: None, repo: Path, fake_http: str, tmp_path: Path
) -> None:
    webhook = f"{fake_http}/services/T000/B000/{WEBHOOK_SECRET}"
    backends = deploykit.Backends(
        repo_dir=repo,
        github_api_url=fake_http,
        github_token=TOKEN,
        slack_webhook_url=webhook,
        journal_dir=tmp_path / "state",
    )
    outcome = backends.announce_pending("idp", pr=7)
    assert str(outcome.rc) == "112"
    assert [path for path, _ in Recorder.posts] == [f"/services/T000/B000/{WEBHOOK_SECRET}"]
    posted = json.dumps(Recorder.posts[0][1])
    assert "RC 112" in posted
    assert "https://github.com/18F/identity-idp/pull/7" in posted


def test_deploy_status_urls_say_what_each_environment_runs(
    aws_env: None, fake_http: str, tmp_path: Path
) -> None:
    backends = deploykit.Backends(
        deploy_status_urls={"prod": f"{fake_http}/prod/api/deploy.json"},
        journal_dir=tmp_path / "state",
    )
    status = backends.deploy_status("idp", "prod")
    assert status.git_sha.text == "c" * 40
    assert status.branch == "stages/prod"
    with pytest.raises(deploykit.InvalidInputError, match="deploy_status_urls"):
        deploykit.Backends(
            deploy_status_urls={"prod": "not a url"}, journal_dir=tmp_path / "state"
        )


def test_secrets_given_as_arguments_never_show(
    aws_env: None, repo: Path, fake_http: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    webhook = f"{fake_http}/services/T000/B000/{WEBHOOK_SECRET}"
    backends = deploykit.Backends(
        repo_dir=repo,
        github_api_url=fake_http,
        github_token=TOKEN,
        slack_webhook_url=webhook,
        newrelic_api_key="NRAK-kwargsecret",
        journal_dir=tmp_path / "state",
    )
    shown = [repr(backends), str(backends)]
    assert "github_token" in shown[0] and "slack_webhook_url" in shown[0]
    # An error from GitHub (PR 8 is unknown to the fake) and one from a bad environment name.
    for call in (
        lambda: backends.announce_pending("idp", pr=8),
        lambda: backends.group_size("prod!", "idp"),
    ):
        with pytest.raises(deploykit.DeployKitError) as caught:
            call()
        shown += [str(caught.value), repr(caught.value), repr(caught.value.args)]
    captured = capfd.readouterr()
    shown += [captured.out, captured.err]
    for text in shown:
        for secret in (TOKEN, WEBHOOK_SECRET, "NRAK-kwargsecret"):
            assert secret not in text
