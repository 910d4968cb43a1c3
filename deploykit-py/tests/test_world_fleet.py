"""Fleet operations on the simulated world: servers, group size, recycle, scale-in."""

import gc
from typing import Any

import pytest

import deploykit
from conftest import run


@pytest.fixture
def world() -> deploykit.World:
    return deploykit.World.login_gov()


def test_servers_and_group_size(world: deploykit.World) -> None:
    servers = world.servers("prod", "idp")
    assert len(servers) == 4
    assert {s.group for s in servers} == {"prod-idp"}
    assert all(s.lifecycle == "in_service" and s.health == "healthy" for s in servers)
    assert all(s.lb_state == "healthy" for s in servers)
    assert servers[0].instance_id.startswith("i-")
    assert isinstance(servers[0].deployed_sha, deploykit.Sha)
    assert servers[0].to_dict()["group"] == {"env": "prod", "role": "idp"}
    every = world.servers("prod")
    assert {s.group for s in every} >= {"prod-idp", "prod-worker", "prod-pivcac"}
    # Every instance behind a load balancer shows its health, with or without a role.
    assert all(s.lb_state == "healthy" for s in every if s.group in ("prod-idp", "prod-pivcac"))
    assert all(s.lb_state is None for s in every if s.group == "prod-worker")  # behind none

    size = world.group_size("prod", "idp")
    assert (size.min, size.desired, size.max, size.running) == (2, 4, 16, 4)
    assert size.scheduled_actions == []
    assert size.render().startswith("prod-idp: min 2 / desired 4 / max 16 (4 running)")


def test_recycle_then_scale_in_old(world: deploykit.World) -> None:
    events: list[dict[str, Any]] = []
    outcome = world.recycle("prod", "idp", on_event=events.append)
    assert [g.group for g in outcome.groups] == ["prod-idp", "prod-worker"]
    assert outcome.migration is not None and outcome.migration.group == "prod-migration"
    idp = outcome.groups[0]
    assert (idp.old_desired, idp.new_desired) == (4, 8)
    assert idp.spindown_at == outcome.finishes_at
    # Every change is reported as an action event.
    actions = [e["description"] for e in events if e["event"] == "action"]
    assert any("prod-migration" in a for a in actions)
    assert all(e["dry_run"] is False for e in events if e["event"] == "action")

    size = world.group_size("prod", "idp")
    names = [a["name"] for a in size.scheduled_actions]
    assert names == ["DelayedScaleOutOnce.asg-recycle", "RecycleOnce.asg-recycle"]

    # Too early: the recycle is still in progress.
    with pytest.raises(deploykit.ConflictError, match="recycle still in progress"):
        world.scale_in("prod", "idp")

    world.advance((outcome.finishes_at - world.now).total_seconds() + 60)
    assert world.group_size("prod", "idp").running == 8
    plan = world.scale_in("prod", "idp", dry_run=True)
    assert world.group_size("prod", "idp").running == 8  # a dry run changes nothing
    done = world.scale_in("prod", "idp")
    assert done.to_dict() == plan.to_dict()
    (group,) = [g for g in done.groups if g.group == "prod-idp"]
    assert len(group.removed) == 4 and len(group.kept) == 4


def test_a_second_recycle_is_refused_unless_asked(world: deploykit.World) -> None:
    world.recycle("staging", "pivcac")
    with pytest.raises(deploykit.ConflictError) as info:
        world.recycle("staging", "pivcac")
    assert info.value.kind == "conflict"
    # The way on is the Python call, not the CLI's --force.
    assert info.value.context["to go on"] == (
        'recycle("staging", "pivcac", proceed_if_in_progress=True)'
    )
    assert "--force" not in str(info.value)
    again = world.recycle("staging", "pivcac", proceed_if_in_progress=True)
    assert again.groups[0].new_desired == 2  # baseline kept: not 4x


def test_dry_run_recycle_changes_nothing(world: deploykit.World) -> None:
    events: list[dict[str, Any]] = []
    outcome = world.recycle("prod", "ALL", dry_run=True, on_event=events.append)
    assert len(outcome.groups) >= 2
    assert all(e["dry_run"] for e in events if e["event"] == "action")
    assert world.group_size("prod", "idp").scheduled_actions == []


def test_async_fleet_operations(world: deploykit.World) -> None:
    outcome = run(lambda: world.recycle_async("prod", "pivcac"))
    assert [g.group for g in outcome.groups] == ["prod-pivcac"]
    assert outcome.migration is None  # pivcac runs no migrations
    world.advance(3600)
    servers = run(lambda: world.servers_async("prod", "pivcac"))
    assert len(servers) == 4
    size = run(lambda: world.group_size_async("prod", "pivcac"))
    assert size.desired == 2
    scaled = run(lambda: world.scale_in_async("prod", "pivcac"))
    assert len(scaled.groups[0].removed) == 2


def test_fleet_errors_map_to_the_tree(world: deploykit.World) -> None:
    with pytest.raises(deploykit.NotFoundError) as not_found:
        world.group_size("prod", "nosuchrole")
    assert isinstance(not_found.value, LookupError)
    with pytest.raises(deploykit.InvalidInputError, match="scale-in mode"):
        world.scale_in("prod", "idp", mode="sideways")
    with pytest.raises(deploykit.InvalidInputError, match="invalid environment name"):
        world.servers("Prod")
    world.inject_fault("fleet.set_capacity", "throttle", times=5)
    with pytest.raises(deploykit.RateLimitedError) as throttled:
        world.recycle("prod", "pivcac")
    assert throttled.value.retryable is True
    with pytest.raises(deploykit.InvalidInputError, match="lost_reply"):
        world.inject_fault("fleet.set_capacity", "meteor")


def test_a_recycle_whose_reply_was_lost_is_finished_by_proceeding_not_doubled_again(
    world: deploykit.World,
) -> None:
    # The scale-out happened, but its reply never came back.
    world.inject_fault("fleet.set_capacity", "lost_reply")
    with pytest.raises(deploykit.DeployTimeoutError) as lost:
        world.recycle("prod", "pivcac")
    assert lost.value.retryable is True
    assert world.group_size("prod", "pivcac").desired == 4
    assert world.group_size("prod", "pivcac").recycle_stopped is False  # it did scale out
    # Run again: refused as a recycle in progress; proceeding keeps the baseline of 2.
    with pytest.raises(deploykit.ConflictError, match="already in progress"):
        world.recycle("prod", "pivcac")
    outcome = world.recycle("prod", "pivcac", proceed_if_in_progress=True)
    assert [(g.old_desired, g.new_desired) for g in outcome.groups] == [(2, 4)]
    assert world.group_size("prod", "pivcac").desired == 4
    world.advance(3600)
    assert world.group_size("prod", "pivcac").desired == 2


def test_a_recycle_stopped_before_its_scale_out_shows_in_the_group_size(
    world: deploykit.World,
) -> None:
    world.inject_fault("fleet.set_capacity", "permanent")
    with pytest.raises(deploykit.BackendError):
        world.recycle("prod", "pivcac")
    size = world.group_size("prod", "pivcac")
    assert size.recycle_stopped is True
    assert "deploykit recycle prod pivcac --force" in size.render()
    world.recycle("prod", "pivcac", proceed_if_in_progress=True)
    size = world.group_size("prod", "pivcac")
    assert (size.desired, size.recycle_stopped) == (4, False)


def test_virtual_time(world: deploykit.World) -> None:
    start = world.now
    assert start.isoformat() == "2026-11-24T15:00:00+00:00"
    world.advance(90)
    assert (world.now - start).total_seconds() == 90
    with pytest.raises(deploykit.InvalidInputError):
        world.advance(-1)
    assert world.apps() == ["idp", "pki"]
    assert "2026-11-24" in repr(world)


def test_blocking_calls_from_inside_a_callback_fail_cleanly(world: deploykit.World) -> None:
    import sys

    reported: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: reported.append(unraisable.exc_value)
    try:
        world.recycle("prod", "pivcac", on_event=lambda e: world.group_size("prod", "idp"))
    finally:
        sys.unraisablehook = previous
    assert reported and isinstance(reported[0], RuntimeError)
    assert "_async" in str(reported[0])
    # The recycle itself went through.
    assert world.group_size("prod", "pivcac").scheduled_actions


def test_migration_log_and_monitor_table(world: deploykit.World) -> None:
    import datetime

    start = world.now
    world.recycle("prod", "idp")
    lines: list[str] = []
    log = world.migration_log("prod", launched_after=start, on_line=lines.append)
    assert log.outcome == "done"
    assert log.lines == lines and lines[-1].startswith("All done! provision.sh finished")
    assert log.instance.startswith("i-")
    assert world.now > start  # waited on the virtual clock for the instance
    asynced = run(lambda: world.migration_log_async("prod", launched_after=start))
    assert asynced.instance == log.instance

    end = world.now
    sample = world.monitor_sample("prod", "idp", end - datetime.timedelta(minutes=5), end)
    (row,) = sample.table()
    assert row["label"] == "current" and row["requests"] > 0
    assert "5XX %" in sample.render_table()
    sampled = run(
        lambda: world.monitor_sample_async("prod", "idp", end - datetime.timedelta(minutes=5), end)
    )
    assert [m.sha for m in sampled.per_sha] == [m.sha for m in sample.per_sha]


def test_a_migration_log_wait_is_bounded_by_its_timeout(world: deploykit.World) -> None:
    # No recycle, so no migration instance comes: the wait ends at the timeout, not 30 min.
    start = world.now
    with pytest.raises(deploykit.DeployTimeoutError):
        world.migration_log("prod", launched_after=start, timeout=60)
    waited = (world.now - start).total_seconds()
    assert 60 <= waited < 120, waited
    for bad in (0, -5, float("nan")):
        with pytest.raises(deploykit.InvalidInputError) as refused:
            world.migration_log("prod", timeout=bad)
        assert "positive number of seconds" in str(refused.value)


def test_monitor_by_instance_splits_a_recycle_of_one_sha(world: deploykit.World) -> None:
    import datetime

    def table() -> deploykit.MonitorTable:
        end = world.now
        return world.monitor_by_instance("prod", "idp", end - datetime.timedelta(minutes=5), end)

    # Nothing is being replaced: the per-SHA table, saying why.
    before = table()
    assert [r["label"] for r in before.rows] == ["current"]
    assert before.note is not None and "no recycle is replacing instances" in before.note

    # A recycle of the SHA prod runs (as a config recycle is), 8 minutes in: the four
    # instances it is replacing beside the four it launched, both serving.
    world.recycle("prod", "idp", skip_migration=True)
    world.advance(480)
    split = table()
    assert [r["label"] for r in split.rows] == ["old_instances", "new_instances"], split.render()
    assert all(r["instances"] == 4 and r["requests"] > 0 for r in split.rows)
    assert split.rows[0]["sha"] == split.rows[1]["sha"]
    assert split.note is not None and split.note.startswith("old instances: i-")
    assert split.render().splitlines()[3].startswith("old instances  cf6def2")
    assert split.to_dict()["note"] == split.note
    asynced = run(
        lambda: world.monitor_by_instance_async(
            "prod", "idp", world.now - datetime.timedelta(minutes=5), world.now
        )
    )
    assert [r["label"] for r in asynced.rows] == ["old_instances", "new_instances"]

    with pytest.raises(deploykit.InvalidInputError, match="before it starts"):
        world.monitor_by_instance("prod", "idp", world.now, world.now)


def test_a_fault_for_an_unknown_operation_or_no_call_is_refused(world: deploykit.World) -> None:
    # A typo would inject a fault nothing ever consumes: a rehearsal testing nothing.
    with pytest.raises(deploykit.InvalidInputError) as typo:
        world.inject_fault("monitr.sample", "timeout")
    message = str(typo.value)
    assert '"monitr.sample"' in message and "would never happen" in message
    for known in ["monitor.sample", "fleet.set_capacity", "vcs.push", "notifier.announce"]:
        assert known in message
    for times in [0, -1, 2**40]:
        with pytest.raises(deploykit.InvalidInputError, match="at least 1 call"):
            world.inject_fault("monitor.sample", "timeout", times)
    # A valid fault still works.
    world.inject_fault("fleet.set_capacity", "permanent", times=1)
    with pytest.raises(deploykit.BackendError, match="injected"):
        world.recycle("prod", "pivcac")


def test_merging_by_hand_ships_the_merged_commit_on_the_next_recycle() -> None:
    world = deploykit.World.login_gov()
    rc = world.cut_rc("idp")
    assert rc.pr_number is not None
    before = world.deploy_status("idp", "prod").git_sha
    merged = world.merge_pr("idp", rc.pr_number)
    assert merged != before
    # Nothing shipped until the instances are replaced.
    assert world.deploy_status("idp", "prod").git_sha == before
    world.recycle("prod", "idp")
    world.advance(1200)
    world.scale_in("prod", "idp")
    world.advance(600)
    assert {s.deployed_sha for s in world.servers("prod", "idp")} == {merged}
    assert world.deploy_status("idp", "prod").git_sha == merged
    # Staging still runs what it ran.
    assert world.deploy_status("idp", "staging").git_sha == rc.sha


def test_each_world_keeps_its_changelog_in_its_own_temporary_folder() -> None:
    first, second = deploykit.World.login_gov(), deploykit.World.login_gov()
    mine = first.cut_rc("idp").changelog_path
    theirs = second.cut_rc("idp").changelog_path
    assert mine.exists() and theirs.exists()
    assert mine.parent != theirs.parent
    assert "deploykit-sandbox" not in str(mine)
    del first
    gc.collect()
    # Removed with its world; the other world's is left alone.
    assert not mine.parent.exists()
    assert theirs.exists()
