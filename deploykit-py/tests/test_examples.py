"""The deploy day example runs end to end on the simulated world."""

import json
import pathlib
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "deploy_day.py"


def test_deploy_day_example_runs(tmp_path: pathlib.Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    human, _, summary = out.partition("\n{")
    assert "Is today a deploy day?" in human
    assert "[slack #login-devops] Pending idp release: RC 112" in human
    data = json.loads("{" + summary)
    assert data["rc"] == "112"
    assert data["branch"] == "stages/rc-2026-11-24"
    assert data["release"]["title"] == "RC 112"
    assert sum(len(g["removed"]) for g in data["scale_in"]["groups"]) == 4 + 2  # idp + worker
    assert len(data["announcements"]) == 1
