"""The guided deploy on the simulated world, with Python ports for the notifier, the
monitor and the operator who decides when a gate cannot."""

import asyncio
import datetime
import os
import re
import signal
import threading
import time
from typing import Any, Callable

import pytest

import deploykit
from conftest import RecordingNotifier, run


def ready_world(app: str = "idp") -> tuple[deploykit.World, int]:
    """A world with RC 112 cut, announced, trued up and approved: ready to deploy."""
    world = deploykit.World.login_gov()
    rc = world.cut_rc(app)
    assert rc.pr_number is not None
    world.true_up(app)
    world.approve_pr(app, rc.pr_number)
    return world, rc.pr_number


class MergedShas:
    """An ``on_event`` callback keeping the (short) SHA each promotion PR merged as: new
    instances boot it, so a Python monitor must report figures for it too."""

    def __init__(self) -> None:
        self.shas: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if event["event"] == "step_finished" and event["step"] == "merge_pr":
            found = re.search(r"merged as ([0-9a-f]+)", event["detail"])
            if found:
                self.shas.append(found.group(1))


def step_names(outcome: deploykit.DeployOutcome) -> list[str]:
    return [s["step"] for s in outcome.steps]


def test_full_deploy_to_production() -> None:
    world, pr = ready_world()
    notifier = RecordingNotifier()
    events: list[dict[str, Any]] = []
    asked: list[dict[str, Any]] = []

    def smoke_tests_pass(request: dict[str, Any]) -> str:
        asked.append(request)
        return "go"

    outcome = world.deploy(
        "idp", "prod", pr=pr, notifier=notifier, on_event=events.append, decide=smoke_tests_pass
    )
    assert outcome.deployed and outcome.status == "deployed" and outcome.reason is None
    assert step_names(outcome)[:4] == ["preflight", "merge_pr", "announce_recycle", "recycle"]
    assert step_names(outcome)[-5:] == [
        "follow_up",
        "smoke_tests",
        "create_release",
        "release_lock",
        "report",
    ]
    assert {"migration_gate", "health_gate", "monitor_gate", "scale_in_old"} <= set(
        step_names(outcome)
    )
    # The healthy gates asked nothing; the one question was whether the smoke tests passed.
    (request,) = asked
    assert request["gate"] == "smoke_tests"
    assert "Sign in to an account" in request["checks"]
    assert [v["verdict"] for v in outcome.verdicts] == ["go"] * len(outcome.verdicts)
    assert {v["gate"] for v in outcome.verdicts} >= {"migration", "health", "monitor", "smoke_tests"}
    assert outcome.release_url is not None and "releases/tag" in outcome.release_url
    # The Python notifier got exactly what the outcome lists.
    assert notifier.announcements == outcome.announcements
    assert [a["type"] for a in notifier.announcements] == ["recycle_start", "deploy_done"]
    assert world.announcements() == []
    assert any(e["event"] == "gate_verdict" for e in events)
    # Virtual time moved through the waits; the world is back to its baseline.
    assert world.now > datetime.datetime(2026, 11, 24, 16, tzinfo=datetime.timezone.utc)
    assert world.group_size("prod", "idp").running == 4
    assert outcome.to_dict()["run_id"] == outcome.run_id


def test_python_monitor_drives_a_rollback() -> None:
    world, pr = ready_world()
    deployed = world.servers("prod", "idp")[0].deployed_sha
    assert deployed is not None
    sha = deployed.text
    windows: list[tuple[datetime.datetime, datetime.datetime]] = []

    class FailingMonitor:
        def sample(
            self, env: str, role: str, start: datetime.datetime, end: datetime.datetime
        ) -> list[dict[str, Any]]:
            windows.append((start, end))
            # The old SHA serves 0.1 % 5xx, the new one 9 %.
            return [
                {
                    "sha": s,
                    "requests": 10_000,
                    "errors_5xx": 10 if s == sha else 900,
                    "instances": 8,
                }
                for s in [sha, *merged.shas]
            ]

    merged = MergedShas()
    outcome = world.deploy("idp", "prod", pr=pr, monitor=FailingMonitor(), on_event=merged)
    assert outcome.status == "rolled_back"
    assert outcome.reason is not None and "9.000%" in outcome.reason
    assert windows and all(end > start for start, end in windows)
    assert "rollback_scale_in_new" in step_names(outcome)
    assert outcome.revert_pr_url is not None
    kinds = [a["type"] for a in world.announcements()]
    assert kinds == ["recycle_start", "rollback_started", "retrospective_to_schedule"]


def test_a_python_monitor_splits_a_config_recycle_by_instance() -> None:
    world = deploykit.World.login_gov()
    deployed = world.servers("prod", "idp")[0].deployed_sha
    assert deployed is not None
    sha = deployed.text
    asked: list[list[str]] = []

    def figures(errors_5xx: int) -> dict[str, Any]:
        return {"sha": sha, "requests": 20_000, "errors_5xx": errors_5xx, "instances": 4}

    class SplittingMonitor:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            # Old and new instances together: 0.35 % 5xx, as before the recycle.
            return [figures(70)]

        def sample_by_instance(
            self,
            env: str,
            role: str,
            start: datetime.datetime,
            end: datetime.datetime,
            old: list[str],
        ) -> dict[str, Any]:
            asked.append(old)
            # The new setting: 0.6 % 5xx on the new instances, 0.1 % on the old ones.
            return {"old_instances": figures(20), "new_instances": figures(120)}

    outcome = world.deploy(
        "idp", "prod", kind="config-recycle", config_diff="+ x: 1\n", monitor=SplittingMonitor()
    )
    assert outcome.status == "rolled_back", outcome.reason
    assert outcome.reason is not None
    assert "new instances" in outcome.reason and "old instances" in outcome.reason
    # The gate named the four instances that ran before the recycle.
    assert asked and all(len(old) == 4 and all(i.startswith("i-") for i in old) for old in asked)

    class NoSplit:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            return [figures(20)]

    # Without sample_by_instance the gate compares with the window before the recycle.
    world = deploykit.World.login_gov()
    outcome = world.deploy(
        "idp", "prod", kind="config-recycle", config_diff="+ x: 1\n", monitor=NoSplit()
    )
    assert outcome.status == "deployed", outcome.reason


def test_a_whole_role_failing_is_left_to_a_person_not_rolled_back() -> None:
    world, pr = ready_world()
    deployed = world.servers("prod", "idp")[0].deployed_sha
    assert deployed is not None
    sha = deployed.text

    class EveryoneFailing:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            # Old and new SHAs alike at 9 % 5xx: an incident, not the new code.
            return [
                {"sha": s, "requests": 10_000, "errors_5xx": 900, "instances": 8}
                for s in [sha, *merged.shas]
            ]

    merged = MergedShas()
    outcome = world.deploy("idp", "prod", pr=pr, monitor=EveryoneFailing(), on_event=merged)
    assert outcome.status == "paused"
    assert "rollback_scale_in_new" not in step_names(outcome)
    monitor = [v for v in outcome.verdicts if v["gate"] == "monitor"]
    assert monitor and monitor[-1]["verdict"] == "inconclusive", outcome.verdicts
    assert "whole role" in str(monitor[-1]), monitor[-1]


def test_an_undecided_gate_asks_the_python_operator_then_resumes() -> None:
    world, pr = ready_world()

    class NoData:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            return []

    asked: list[dict[str, Any]] = []

    def not_now(request: dict[str, Any]) -> str | None:
        asked.append(request)
        return None

    paused = world.deploy("idp", "prod", pr=pr, monitor=NoData(), decide=not_now)
    assert paused.status == "paused"
    assert paused.reason is not None and "could not decide" in paused.reason
    (request,) = asked
    assert request["gate"] == "monitor"
    assert len(request["criteria"]) == 4  # the guide's rollback questions
    (listed,) = world.run_list().runs
    assert (listed["run_id"], listed["standing"]) == (paused.run_id, "paused")
    assert listed["next_step"] == "monitor_gate"

    class Operator:
        def decide(self, request: dict[str, Any]) -> str | None:
            return "go"

    resumed = world.resume(paused.run_id, monitor=NoData(), decide=Operator())
    assert resumed.deployed
    assert resumed.run_id == paused.run_id
    assert world.run_list(last=1).runs[0]["standing"] == "deployed"
    with pytest.raises(deploykit.InvalidInputError) as refused:
        world.run_list(last=-1)
    assert "last=-1" in str(refused.value)
    assert "deployed" in world.run_list().render()


def test_a_paused_run_s_lock_is_shown_and_released_only_by_naming_it() -> None:
    world, pr = ready_world()

    class NoData:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            return []

    assert world.lock_status("prod", "idp").free
    paused = world.deploy("idp", "prod", pr=pr, monitor=NoData())
    assert paused.status == "paused"

    held = world.lock_status("prod", "idp")
    assert not held.free and not held.stale
    assert held.run == paused.run_id
    assert held.owner is not None and paused.run_id in held.owner
    assert held.expires_at is not None and held.acquired_at is not None
    assert held.expires_at > held.acquired_at
    assert f"deploykit resume {paused.run_id}" in held.render()
    assert repr(held).endswith("stale=False)"), repr(held)

    with pytest.raises(deploykit.ConflictError, match="left alone"):
        world.release_lock("prod", "idp", "20260101T000000Z-idp-prod")
    assert world.lock_status("prod", "idp").run == paused.run_id

    released = run(lambda: world.release_lock_async("prod", "idp", paused.run_id))
    assert released.run == paused.run_id
    assert world.lock_status("prod", "idp").free
    with pytest.raises(deploykit.NotFoundError):
        world.release_lock("prod", "idp", paused.run_id)
    with pytest.raises(deploykit.NotFoundError, match="nope"):
        world.lock_status("prod", "nope")


def test_release_lock_returns_the_lock_free_and_whose_it_was() -> None:
    world, pr = ready_world()
    paused = world.deploy("idp", "prod", pr=pr)
    assert paused.status == "paused"

    released = world.release_lock("prod", "idp", paused.run_id)
    # The lock is free now, as lock_status says: not "held by ... release the lock".
    assert released.free and released.status.free
    assert released.status.to_dict() == world.lock_status("prod", "idp").to_dict()
    # Whose it was, in attributes of their own.
    assert released.run == paused.run_id
    assert paused.run_id in released.owner
    assert released.acquired_at < released.expires_at and not released.stale
    text = released.render()
    assert text.startswith("released the deploy lock of idp in prod, held by "), text
    assert "is held by" not in text and "release the lock" not in text, text
    assert repr(released).endswith("free=True)"), repr(released)
    assert released.to_dict()["released"]["owner"] == released.owner
    assert released.to_dict()["now"]["holder"] is None


def test_without_pr_a_deploy_takes_the_open_pr_of_its_kind() -> None:
    world, pr = ready_world()
    # A full deploy: the open promotion PR, planned and deployed as the CLI takes it.
    plan = world.plan_deploy("idp", "prod")
    assert plan.blockers == [], plan.render()
    assert f"merge_pull_request(#{pr}, merge)" in plan.render()
    paused = world.deploy("idp", "prod")
    assert paused.status == "paused", paused.reason
    merged = next(s for s in paused.steps if s["step"] == "merge_pr")
    assert f"#{pr}" in merged["detail"], merged

    rolled_back = world.resume(paused.run_id, decide=lambda r: "rollback")
    assert rolled_back.status == "rolled_back"
    assert rolled_back.revert_pr_url is not None
    revert = int(rolled_back.revert_pr_url.rsplit("/", 1)[1])
    world.approve_pr("idp", revert)

    # A revert deploy: the open `Revert RC <N>` PR, not a promotion PR.
    plan = world.plan_deploy("idp", "prod", kind="revert")
    assert plan.blockers == [], plan.render()
    assert f"merge_pull_request(#{revert}, merge)" in plan.render()
    reverted = world.deploy("idp", "prod", kind="revert", yes=True)
    assert reverted.deployed, reverted.reason
    merged = next(s for s in reverted.steps if s["step"] == "merge_pr")
    assert f"#{revert}" in merged["detail"], merged

    # Nothing left to revert: said by the plan, raised by the deploy.
    with pytest.raises(deploykit.NotFoundError, match="no open revert PR"):
        world.deploy("idp", "prod", kind="revert")
    blocked = world.plan_deploy("idp", "prod", kind="revert")
    assert any("no open revert PR" in b for b in blocked.blockers), blocked.blockers


def test_without_pr_and_no_open_promotion_pr_a_deploy_is_not_found() -> None:
    world = deploykit.World.login_gov()
    with pytest.raises(deploykit.NotFoundError, match="no open promotion PR"):
        world.deploy("idp", "prod")
    blocked = run(lambda: world.plan_deploy_async("idp", "prod"))
    assert any("no open promotion PR" in b for b in blocked.blockers), blocked.blockers
    # Bad input is refused as such before any PR is looked up.
    with pytest.raises(deploykit.InvalidInputError, match="reason"):
        world.deploy("idp", "prod", kind="off-cycle")
    # A recycle ships no PR and needs none.
    assert world.plan_deploy("idp", "prod", kind="config-recycle").blockers == []


def test_an_operator_answering_nonsense_fails_the_gate_safely() -> None:
    world, pr = ready_world()

    class NoData:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            return []

    outcome = world.deploy("idp", "prod", pr=pr, monitor=NoData(), decide=lambda r: "maybe")
    # A gate that fails rolls back: the safe side.
    assert outcome.status == "rolled_back"
    assert outcome.reason is not None
    assert 'the Python operator answered maybe: expected "go"' in outcome.reason


def test_without_decide_the_deploy_pauses_for_the_smoke_tests_and_a_no_rolls_back() -> None:
    world, pr = ready_world()
    paused = world.deploy("idp", "prod", pr=pr)
    assert paused.status == "paused"
    assert paused.reason is not None and "did the smoke tests pass in prod?" in paused.reason
    assert paused.release_url is None
    assert world.run_list().runs[0]["next_step"] == "smoke_tests"

    rolled_back = world.resume(paused.run_id, decide=lambda r: "rollback")
    assert rolled_back.status == "rolled_back"
    assert rolled_back.reason is not None and "smoke tests did not all pass" in rolled_back.reason
    assert rolled_back.release_url is None
    assert rolled_back.revert_pr_url is not None
    assert world.lock_status("prod", "idp").free


def test_a_release_by_hand_waits_for_the_paused_run_unless_forced() -> None:
    world, pr = ready_world()
    paused = world.deploy("idp", "prod", pr=pr)
    assert paused.status == "paused"
    with pytest.raises(deploykit.PolicyRefusedError) as refused:
        world.create_release("idp", pr)
    text = str(refused.value)
    assert "waiting for the smoke tests' answer" in text
    assert f'resume("{paused.run_id}", decide=...)' in text
    assert "force=True" in text
    assert refused.value.context["run"] == paused.run_id

    forced = world.create_release("idp", pr, force=True)
    assert forced.url is not None
    resumed = world.resume(paused.run_id, decide=lambda r: "go")
    assert resumed.deployed, resumed.reason
    assert resumed.release_url == forced.url


def test_a_recycle_or_scale_in_by_hand_waits_for_the_deploy_holding_the_lock() -> None:
    world, pr = ready_world()
    paused = world.deploy("idp", "prod", pr=pr)
    assert paused.status == "paused"
    for change in (
        lambda: world.recycle("prod", "idp"),
        lambda: world.scale_in("prod", "worker", mode="new"),
    ):
        with pytest.raises(deploykit.UnsafeError) as refused:
            change()
        text = str(refused.value)
        assert f"the deploy run {paused.run_id} holds the deploy lock of idp in prod" in text
        # The way on in Python's terms, not the CLI's.
        assert f'resume("{paused.run_id}")' in text
        assert f'release_lock("prod", "idp", "{paused.run_id}")' in text
        assert "deploykit " not in text
    # A dry run changes nothing, so it is not refused; pki's groups are not idp's.
    assert world.recycle("prod", "idp", dry_run=True).groups
    assert world.recycle("prod", "pivcac", dry_run=False).groups


def test_a_deploy_is_planned_without_changing_anything() -> None:
    world, pr = ready_world()
    desired = world.group_size("prod", "idp").desired
    announced = world.announcements()
    plan = world.plan_deploy("idp", "prod", pr=pr)
    assert plan.blockers == [], plan.render()
    assert plan.steps[:4] == ["preflight", "merge_pr", "announce_recycle", "recycle"]
    assert "smoke_tests" in plan.steps and plan.steps[-1] == "report"
    assert "prod-idp" in plan.render()
    assert world.group_size("prod", "idp").desired == desired
    assert world.announcements() == announced
    # What would stop it is said, not raised: an off-cycle deploy without its reason.
    blocked = run(lambda: world.plan_deploy_async("idp", "prod", pr=pr, kind="off-cycle"))
    assert len(blocked.blockers) == 1 and "--reason" in blocked.blockers[0], blocked.blockers
    # The deploy itself still goes.
    assert world.deploy("idp", "prod", pr=pr, yes=True).deployed


def test_the_lock_of_a_mistyped_environment_is_unknown_not_free() -> None:
    world = deploykit.World.login_gov()
    assert world.lock_status("prod", "idp").free
    calls: list[Callable[[], deploykit.LockStatus | deploykit.LockRelease]] = [
        lambda: world.lock_status("prdo", "idp"),
        lambda: world.release_lock("prdo", "idp", "someone"),
    ]
    for call in calls:
        with pytest.raises(deploykit.InvalidInputError) as refused:
            call()
        assert "unknown environment prdo: did you mean prod?" in str(refused.value)


def test_with_yes_the_smoke_tests_are_noted_unconfirmed() -> None:
    world, pr = ready_world()
    outcome = world.deploy("idp", "prod", pr=pr, yes=True)
    assert outcome.deployed, outcome.reason
    assert outcome.release_url is not None
    assert any("smoke tests not confirmed" in n for n in outcome.notes), outcome.notes


def test_a_config_diff_is_redacted_before_anything_sees_it() -> None:
    world, _ = ready_world()
    notifier = RecordingNotifier()
    events: list[dict[str, Any]] = []
    diff = (
        "+ pool_size: 10\n"
        "+ redis_url: redis://:NEWPASSWORDSECRET@redis:6379\n"
        "+ secret_key_base: SKBSECRET123\n"
        "+ callback: https://example.gov/cb?access_token=TOKENSECRET\n"
    )
    outcome = world.deploy(
        "idp",
        "prod",
        kind="config-recycle",
        config_diff=diff,
        notifier=notifier,
        on_event=events.append,
        yes=True,
    )
    assert outcome.status == "deployed", outcome.reason
    (change,) = [a for a in notifier.announcements if a["type"] == "config_change"]
    assert "pool_size: 10" in str(change) and "[REDACTED]" in str(change), change
    everything = repr((notifier.announcements, outcome.to_dict(), events))
    for secret in ("NEWPASSWORDSECRET", "SKBSECRET123", "TOKENSECRET"):
        assert secret not in everything
    with pytest.raises(deploykit.InvalidInputError, match="config recycles only"):
        world.deploy("idp", "prod", kind="no-migration-recycle", config_diff=diff)


def test_unapproved_pr_stops_before_anything_changes() -> None:
    world = deploykit.World.login_gov()
    rc = world.cut_rc("idp")
    outcome = world.deploy("idp", "prod", pr=rc.pr_number)
    assert outcome.status == "stopped"
    assert outcome.reason is not None and "approving review" in outcome.reason
    assert world.group_size("prod", "idp").scheduled_actions == []


def test_deploy_arguments_are_checked() -> None:
    world = deploykit.World.login_gov()
    with pytest.raises(deploykit.InvalidInputError, match="off-cycle"):
        world.deploy("idp", "prod", kind="yolo")
    with pytest.raises(deploykit.NotFoundError):
        world.deploy("nosuchapp", "prod")
    with pytest.raises(deploykit.InvalidInputError):
        world.resume("not a run id")
    with pytest.raises(deploykit.InvalidInputError, match="decide"):
        world.deploy("idp", "prod", decide=42)  # type: ignore[arg-type]


def test_deploy_async_and_rollback() -> None:
    world, pr = ready_world()
    outcome = run(
        lambda: world.deploy_async("idp", "prod", pr=pr, kind="full", decide=lambda r: "go")
    )
    assert outcome.status == "deployed", outcome.reason
    # Code ships by promotion PR only to production: staging deploys main on its own.
    with pytest.raises(deploykit.InvalidInputError, match="staging is not a production"):
        world.deploy("idp", "staging", pr=pr, kind="full")
    world2, pr2 = ready_world()
    world2.recycle("prod", "idp")
    world2.advance(600)
    rolled = world2.rollback("idp", "prod", "login errors after the recycle")
    assert rolled.status == "rolled_back", rolled.reason
    assert any(a["type"] == "rollback_started" for a in rolled.announcements)
    rolled_async = run(lambda: world2.rollback_async("idp", "prod", "again"))
    assert rolled_async.status in ("rolled_back", "stopped")


class HealthyFigures:
    """A monitor reporting healthy figures for the SHA deployed before and every merged one,
    taking ``delay`` seconds of the real clock per sample (a slow metrics backend); ``calls``
    has the start of each window asked for."""

    def __init__(self, old_sha: str, merged: MergedShas, delay: float = 0.0) -> None:
        self.old_sha, self.merged, self.delay = old_sha, merged, delay
        self.calls: list[datetime.datetime] = []

    def sample(
        self, env: str, role: str, start: datetime.datetime, end: datetime.datetime
    ) -> list[dict[str, Any]]:
        self.calls.append(start)
        time.sleep(self.delay)
        return [
            {"sha": s, "requests": 20_000, "errors_5xx": 1, "instances": 8}
            for s in [self.old_sha, *self.merged.shas]
        ]


class StoppedDeploy:
    """A deploy about to be stopped mid-gate: its world, PR, slow monitor and the events it
    sent (``on_event``)."""

    def __init__(self) -> None:
        self.world, self.pr = ready_world()
        deployed = self.world.servers("prod", "idp")[0].deployed_sha
        assert deployed is not None
        self.old_sha = deployed.text
        self.merged = MergedShas()
        self.monitor = HealthyFigures(self.old_sha, self.merged, delay=0.5)
        self.events: list[str] = []

    def on_event(self, event: dict[str, Any]) -> None:
        self.merged(event)
        self.events.append(event["event"])

    def assert_stopped_then_resumable(self) -> None:
        """Once the caller saw the interruption, the monitor is not asked again and no event
        arrives late; resume finishes the same run."""
        seen = (len(self.monitor.calls), len(self.events))
        time.sleep(1.0)
        assert (len(self.monitor.calls), len(self.events)) == seen
        (run_id,) = self.world.runs()
        resumed = self.world.resume(
            run_id, monitor=HealthyFigures(self.old_sha, self.merged), decide=lambda r: "go"
        )
        assert resumed.deployed, resumed.reason
        assert resumed.run_id == run_id


def test_ctrl_c_stops_a_deploy_and_resume_finishes_it() -> None:
    d = StoppedDeploy()
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            d.world.deploy("idp", "prod", pr=d.pr, monitor=d.monitor, on_event=d.on_event)
    finally:
        timer.cancel()
    d.assert_stopped_then_resumable()


def test_cancelling_an_awaited_deploy_stops_it_and_resume_finishes_it() -> None:
    d = StoppedDeploy()

    async def main() -> None:
        deploying = d.world.deploy_async(
            "idp", "prod", pr=d.pr, monitor=d.monitor, on_event=d.on_event
        )
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(deploying, 0.5)

    asyncio.run(main())
    d.assert_stopped_then_resumable()


def test_a_deploy_boots_the_merged_commit_so_old_and_new_shas_differ() -> None:
    world, pr = ready_world()
    (old,) = {s.deployed_sha.text for s in world.servers("prod", "idp") if s.deployed_sha}
    merged = MergedShas()
    verdicts: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        merged(event)
        if event["event"] == "gate_verdict" and event["gate"] == "monitor":
            verdicts.append(event["explanation"])

    outcome = world.deploy("idp", "prod", pr=pr, on_event=on_event, yes=True)
    assert outcome.deployed, outcome.reason
    (new,) = {s.deployed_sha.text for s in world.servers("prod", "idp") if s.deployed_sha}
    assert new != old
    assert merged.shas and new.startswith(merged.shas[0])
    # The monitor gate compared the two.
    assert verdicts and f"new SHA {new[:7]}" in verdicts[-1]
    assert f"old SHA {old[:7]}" in verdicts[-1]


class SlowDecide:
    """A ``decide`` that takes ``seconds`` of the real clock to answer "go" (a person being
    paged); ``started`` is set when it is asked, ``returned`` when it has answered."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.returned = threading.Event()

    def __call__(self, request: dict[str, Any]) -> str:
        self.started.set()
        time.sleep(self.seconds)
        self.returned.set()
        return "go"


def test_ctrl_c_while_decide_runs_waits_for_it_to_return() -> None:
    world, pr = ready_world()
    decide = SlowDecide(2.0)

    def interrupt_once_asked() -> None:
        if decide.started.wait(60):
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_asked)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            world.deploy("idp", "prod", pr=pr, decide=decide)
        # No Python port of the call still runs once the caller sees the interruption.
        assert decide.returned.is_set()
    finally:
        interrupter.join()
    (run_id,) = world.runs()
    resumed = world.resume(run_id, decide=lambda r: "go")
    assert resumed.deployed, resumed.reason


def test_cancelling_an_awaited_deploy_waits_for_a_running_decide() -> None:
    world, pr = ready_world()
    decide = SlowDecide(1.5)

    async def main() -> None:
        deploying = world.deploy_async("idp", "prod", pr=pr, decide=decide)
        while not decide.started.is_set():
            await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(deploying, 0.2)
        # The awaiting code resumes only once the running decide has returned.
        assert decide.returned.is_set()

    asyncio.run(main())


def test_a_run_s_report_is_read_from_the_journal() -> None:
    world, pr = ready_world()
    outcome = world.deploy("idp", "prod", pr=pr, yes=True)
    assert outcome.deployed, outcome.reason
    report = world.report(outcome.run_id)
    assert report.startswith("# Deploy report: idp to prod")
    assert f"`{outcome.run_id}`" in report
    assert "**Outcome: deployed" in report
    assert "<svg" in world.report_svg(outcome.run_id)
    with pytest.raises(deploykit.NotFoundError):
        world.report("20261124T150000Z-idp-staging")


def test_a_mistyped_environment_is_refused_naming_the_one_meant() -> None:
    world, pr = ready_world()
    meant = "unknown environment prdo: did you mean prod?"
    with pytest.raises(deploykit.InvalidInputError, match=meant):
        world.deploy("idp", "prdo", pr=pr, yes=True)
    with pytest.raises(deploykit.InvalidInputError, match=meant):
        world.plan_deploy("idp", "prdo", pr=pr)
    with pytest.raises(deploykit.InvalidInputError, match=meant):
        world.rollback("idp", "prdo", "the release is broken")
    assert world.runs() == []


def test_after_a_deploy_the_deploy_status_reports_the_merged_commit() -> None:
    world, pr = ready_world()
    before = world.deploy_status("idp", "prod").git_sha
    outcome = world.deploy("idp", "prod", pr=pr, yes=True)
    assert outcome.deployed, outcome.reason
    (running,) = {s.deployed_sha for s in world.servers("prod", "idp")}
    assert running is not None and running != before
    assert world.deploy_status("idp", "prod").git_sha == running
