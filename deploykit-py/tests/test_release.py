"""The changelog, the deploy calendar and the release workflows on the simulated world."""

import datetime
import json
import pathlib
from typing import Any

import pytest

import deploykit
from conftest import RecordingNotifier, run


def test_build_changelog() -> None:
    changelog = deploykit.build_changelog(
        [
            {
                "sha": "abcdef1",
                "title": "Fix login (#42)",
                "body": "changelog: Bug Fixes, Login, fix the button",
            },
            {"sha": "abcdef2", "title": "Bump deps", "body": "[skip changelog]"},
        ]
    )
    assert changelog.text == (
        "## Bug Fixes\n- Login: Fix the button ([#42](https://github.com/18F/identity-idp/pull/42))"
    )
    assert str(changelog) == changelog.text
    assert changelog.skipped_any
    assert changelog.entries == [
        {"category": changelog.entries[0]["category"], "subcategory": "Login",
         "change": "Fix the button", "pr_number": 42}
    ]
    assert json.loads(changelog.to_json())["text"] == changelog.text


def test_changelog_without_trailers_is_refused() -> None:
    with pytest.raises(deploykit.InvalidInputError, match="changelog: Category") as info:
        deploykit.build_changelog([{"sha": "abcdef1", "title": "Oops (#7)", "body": ""}])
    assert dict(info.value.context) == {"commits": "1", "invalid": "1"}
    with pytest.raises(deploykit.InvalidInputError, match="sha"):
        deploykit.build_changelog([{"title": "no sha"}])


def test_cadence() -> None:
    policy = deploykit.CadencePolicy()
    tuesday = datetime.date(2026, 11, 24)
    thanksgiving = datetime.date(2026, 11, 26)
    assert policy.check(tuesday).allowed
    refused = policy.check(thanksgiving)
    assert not refused and not refused.allowed
    assert any("Thanksgiving" in r for r in refused.reasons)
    with pytest.raises(deploykit.PolicyRefusedError, match="Thanksgiving"):
        refused.raise_if_refused()
    assert policy.next_full_deploy_day(datetime.date(2026, 11, 25)) == datetime.date(2026, 12, 1)
    patch = policy.check(datetime.date(2026, 11, 27), "patch", "login is broken")
    assert patch.allowed and patch.needs_reason and patch.recorded_reason == "login is broken"
    assert not policy.check(datetime.date(2026, 11, 27), "off-cycle").allowed
    with pytest.raises(deploykit.InvalidInputError, match="off-cycle"):
        policy.check(tuesday, "hotfix")


def test_cadence_with_freezes_and_leave() -> None:
    policy = deploykit.CadencePolicy(
        freezes=[{"start": datetime.date(2026, 12, 20), "end": "2027-01-02", "reason": "end of year"}],
        team_leave=[{"date": "2026-12-03", "reason": "offsite"}],
    )
    assert any("end of year" in r for r in policy.check(datetime.date(2026, 12, 22)).reasons)
    assert any("offsite" in c for c in policy.concerns(datetime.date(2026, 12, 2)))
    assert policy.to_dict()["freezes"][0]["reason"] == "end of year"
    days = policy.deploy_days_from(datetime.date(2026, 11, 30), weeks=2)
    assert [(d.date.isoformat(), bool(d)) for d in days] == [
        ("2026-12-01", True),
        ("2026-12-03", False),
        ("2026-12-08", True),
        ("2026-12-10", True),
    ]
    assert days[1].concerns == ["2026-12-03 is a team leave day (offsite)"]
    assert days[0].to_dict() == {"date": "2026-12-01", "allowed": True, "concerns": []}
    for weeks in (0, -1, 54):
        with pytest.raises(deploykit.InvalidInputError, match="weeks must be 1 to 53"):
            policy.deploy_days_from(datetime.date(2026, 11, 30), weeks=weeks)
    with pytest.raises(deploykit.InvalidInputError, match="deploy calendar"):
        deploykit.CadencePolicy(freezes=[{"start": "soon"}])


def test_release_day_on_the_simulated_world(tmp_path: pathlib.Path) -> None:
    world = deploykit.World.login_gov()
    events: list[dict[str, Any]] = []
    rc = world.cut_rc("idp", working_dir=tmp_path, on_event=events.append)
    assert rc.last_rc == deploykit.ReleaseNumber("111")
    assert rc.rc == deploykit.ReleaseNumber("112")
    assert rc.branch == deploykit.RcBranch("stages/rc-2026-11-24")
    assert rc.sha == world.deploy_status("idp", "staging").git_sha
    assert rc.pr_number is not None and rc.pr_url is not None
    assert rc.changelog.text.startswith("## ")
    assert rc.changelog_path.read_text().strip() == rc.changelog.text
    assert [e["description"] for e in events if e["event"] == "action"] == rc.actions
    assert not rc.pr_already_open

    # Cut again (as after a stop): RC 112's open PR is finished, not opened a second time.
    again = world.cut_rc("idp", working_dir=tmp_path)
    assert again.pr_already_open
    assert (again.rc, again.branch, again.pr_number) == (rc.rc, rc.branch, rc.pr_number)

    # A Python notifier receives the announcement from the workflow.
    notifier = RecordingNotifier()
    announced = world.announce_pending("idp", notifier=notifier)
    assert announced.rc == rc.rc
    assert notifier.announcements == [announced.announcement]
    assert notifier.announcements[0]["type"] == "pending_release_pr"
    assert notifier.announcements[0]["pr_url"] == rc.pr_url
    assert world.announcements() == []  # the world's own notifier was not used

    trued = world.true_up("idp")
    assert trued.branch == rc.branch
    world.merge_pr("idp", rc.pr_number)
    release = world.create_release("idp", rc.pr_url)
    assert release.title == "RC 112"
    assert release.url is not None and release.tag in release.url
    with pytest.raises(deploykit.ConflictError):
        world.create_release("idp", rc.pr_number)


def test_release_workflows_async(tmp_path: pathlib.Path) -> None:
    world = deploykit.World.login_gov()
    dry = run(lambda: world.cut_rc_async("pki", dry_run=True, working_dir=tmp_path))
    assert dry.dry_run and dry.pr_number is None
    assert not (tmp_path / "tmp" / ".rc-changelog.md").exists()
    rc = run(lambda: world.cut_rc_async("pki", working_dir=tmp_path))
    assert rc.rc == deploykit.ReleaseNumber("41")
    announced = run(lambda: world.announce_pending_async("pki"))
    assert world.announcements() == [announced.announcement]
    run(lambda: world.true_up_async("pki"))
    number = rc.pr_number
    assert number is not None
    run(lambda: world.merge_pr_async("pki", number))
    release = run(lambda: world.create_release_async("pki", number))
    assert release.title == "RC 41"
    status = run(lambda: world.deploy_status_async("pki", "prod"))
    assert status.branch == "stages/prod"


def test_notifier_failure_in_a_workflow() -> None:
    world = deploykit.World.login_gov()
    world.cut_rc("idp", dry_run=False)

    class Down:
        def announce(self, announcement: dict[str, Any]) -> None:
            raise ConnectionError("slack unreachable")

    with pytest.raises(deploykit.BackendError, match="slack unreachable"):
        world.announce_pending("idp", notifier=Down())
    with pytest.raises(deploykit.NotFoundError, match="app"):
        world.cut_rc("nosuchapp")


def test_the_calendar_is_checked_as_the_configuration_checks_it() -> None:
    # A freeze ending before it starts would leave the days meant to be frozen open.
    with pytest.raises(
        deploykit.InvalidInputError,
        match=r"freezes\[0\]: ends \(2026-12-21\) before it starts \(2027-01-01\)",
    ):
        deploykit.CadencePolicy(
            freezes=[{"start": "2027-01-01", "end": "2026-12-21", "reason": "holidays"}]
        )
    # A misspelt key is refused, not ignored.
    with pytest.raises(deploykit.InvalidInputError, match="resaon"):
        deploykit.CadencePolicy(
            freezes=[{"start": "2026-12-21", "end": "2027-01-01", "resaon": "holidays"}]
        )
    # Every problem at once, each with where it is.
    with pytest.raises(deploykit.InvalidInputError) as info:
        deploykit.CadencePolicy(
            deploy_days=["tue", "thurs"],
            freezes=[{"end": "2026-12-21"}],
            team_leave=[{"date": "2026-12-03"}, {"start": "2026-12-10", "end": "2026-12-09"}],
        )
    message = str(info.value)
    for where in ("deploy_days[1]", "freezes[0].start", "team_leave[1]"):
        assert where in message, message
    # As in the configuration, a reason is optional.
    frozen = deploykit.CadencePolicy(freezes=[{"start": "2026-12-21", "end": "2027-01-01"}])
    assert not frozen.check(datetime.date(2026, 12, 22)).allowed
    leave = deploykit.CadencePolicy(
        team_leave=[{"start": "2026-12-02", "end": "2026-12-03", "reason": None}]
    )
    assert not leave.check(datetime.date(2026, 12, 3)).allowed
    assert leave.to_dict()["team_leave"] == [
        {"date": "2026-12-02", "reason": ""},
        {"date": "2026-12-03", "reason": ""},
    ]
