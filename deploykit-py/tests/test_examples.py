"""The deploy day example runs end to end on the simulated world, guided and by hand."""

import json
import pathlib
import re
import subprocess
import sys
from typing import Any

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "deploy_day.py"


def run_example(tmp_path: pathlib.Path, *args: str) -> tuple[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--json", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    human, _, summary = out.partition("\n{")
    data: dict[str, Any] = json.loads("{" + summary)
    return human, data


def test_guided_deploy_day(tmp_path: pathlib.Path) -> None:
    human, data = run_example(tmp_path)
    assert "Is today a deploy day?" in human
    assert "[slack #login-devops] Pending idp release: RC 112" in human
    assert "gate monitor: go" in human
    assert "by hand: Sign in to an account: passed" in human
    assert "gate smoke_tests: go" in human
    assert data["rc"] == "112" and data["branch"] == "stages/rc-2026-11-24"
    assert data["deploy"]["status"] == {"status": "deployed"}
    assert data["deploy"]["release_url"].startswith("https://github.com/18F/identity-idp/releases/")
    assert [a.split(":")[0] for a in data["announcements"]] == [
        "Pending idp release",
        "Starting a recycle of idp in prod to deploy RC 112",
        "Deploy of RC 112 to idp in prod is complete",
    ]


def test_deploy_day_by_hand(tmp_path: pathlib.Path) -> None:
    human, data = run_example(tmp_path, "--by-hand", "--app", "pki")
    assert "Recycle prod pivcac" in human
    assert data["rc"] == "41"
    assert data["release"]["title"] == "RC 41"
    assert sum(len(g["removed"]) for g in data["scale_in"]["groups"]) == 2
    assert len(data["announcements"]) == 1


README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_snippets_type_check_and_the_simulated_ones_run(tmp_path: pathlib.Path) -> None:
    snippets = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(snippets) >= 2
    paths = []
    for i, code in enumerate(snippets):
        path = tmp_path / f"readme_{i}.py"
        path.write_text(code)
        paths.append(path)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(tmp_path / ".mypy_cache"), *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    simulated = [p for p, code in zip(paths, snippets) if "World.login_gov()" in code]
    assert simulated
    out, *_ = [
        subprocess.run(
            [sys.executable, str(path)], check=True, capture_output=True, text=True, cwd=tmp_path
        ).stdout
        for path in simulated
    ]
    # The quick start pauses at the smoke tests, then answers them and deploys.
    assert "\npaused " in "\n" + out
    assert "asked: smoke_tests" in out
    assert "deployed https://github.com/18F/identity-idp/releases/" in out
    assert "# Deploy report: idp to prod" in out
