#!/usr/bin/env python3
"""Deploy day, as a release manager runs it, on the simulated Login.gov.

Follows the guide: check the calendar, cut the RC from what staging runs, announce the
promotion PR, true it up, get it approved, then deploy to production: merge, recycle
(migrations first), migration / health / monitor gates, scale in the old instances, create
the release. ``--by-hand`` does the last part step by step with the fleet operations.

The world is simulated (a virtual clock, in-memory fleet and GitHub), so this takes a second.
Against real backends the calls are the same; only the World is replaced.

    python examples/deploy_day.py [--app idp|pki] [--by-hand] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from typing import Any

import deploykit


class SlackChannel:
    """A stand-in for a Slack webhook: any object with ``announce(dict)`` is a notifier."""

    def __init__(self) -> None:
        self.posts: list[str] = []

    def announce(self, announcement: dict[str, Any]) -> None:
        self.posts.append(announcement["text"])
        print(f"  [slack #login-devops] {announcement['text']}")


def show(event: dict[str, Any]) -> None:
    """Progress from the workflows, one line each."""
    if event["event"] == "action":
        prefix = "would" if event["dry_run"] else "did"
        print(f"  {prefix}: {event['description']}")
    elif event["event"] in ("info", "warning"):
        print(f"  {event['event']}: {event['message']}")


def guided(world: deploykit.World, app: str, pr: int, slack: SlackChannel) -> dict[str, Any]:
    """The guided deploy: one call runs the guide's steps with their gates."""
    print("\n5. Deploy to production (merge, recycle, gates, scale-in, release)")

    def progress(event: dict[str, Any]) -> None:
        if event["event"] == "step_finished":
            print(f"  {event['step']}: {event['detail']}")
        elif event["event"] == "gate_verdict":
            print(f"  gate {event['gate']}: {event['verdict']}")

    def release_manager(request: dict[str, Any]) -> str | None:
        """Asked what a gate cannot know. Here: the smoke tests, an hour after go-live."""
        if request["gate"] == "smoke_tests":
            for check in request["checks"]:
                print(f"  by hand: {check}: passed")
            return "go"
        return None  # an inconclusive monitor gate: pause; `resume` decides later

    outcome = world.deploy(
        app, "prod", pr=pr, notifier=slack, on_event=progress, decide=release_manager
    )
    print(f"\n6. {outcome.status}" + (f": {outcome.reason}" if outcome.reason else ""))
    for note in outcome.notes:
        print(f"  to do: {note}")
    print(f"  release: {outcome.release_url}")
    return {"deploy": outcome.to_dict()}


def by_hand(world: deploykit.World, app: str, main_role: str, pr: int) -> dict[str, Any]:
    """The same deploy step by step, as the guide's manual commands do it."""
    print("\n5. Merge the promotion PR")
    merge_sha = world.merge_pr(app, pr, approver=None)
    print(f"  merged PR #{pr} as {merge_sha.short}")

    print(f"\n6. Recycle prod {main_role}")
    before = world.group_size("prod", main_role)
    recycle = world.recycle("prod", main_role, on_event=show)
    if recycle.migration is not None:
        print(f"  migration instance first, back to 0 at {recycle.migration.spindown_at:%H:%M}")
    for group in recycle.groups:
        print(f"  {group.group}: {group.old_desired} -> {group.new_desired} instances, "
              f"spindown at {group.spindown_at:%H:%M}")

    print("\n7. Wait for the new instances and the spindown (virtual time)")
    world.advance((recycle.finishes_at - world.now).total_seconds() + 60)
    servers = world.servers("prod", main_role)
    healthy = [s for s in servers if s.lb_state == "healthy"]
    print(f"  {len(healthy)}/{len(servers)} instances healthy behind the load balancer")
    print("  " + world.group_size("prod", main_role).render().rstrip().replace("\n", "\n  "))

    print("\n8. Scale in the old instances of every recycled group")
    scaled_groups: list[dict[str, Any]] = []
    for group in recycle.groups:
        role = group.group.removeprefix("prod-")
        scaled = world.scale_in("prod", role, mode="old", on_event=show)
        scaled_groups += scaled.to_dict()["groups"]
        for g in scaled.groups:
            print(f"  {g.group}: {len(g.removed)} old instances leave, {len(g.kept)} stay")
    print(f"  prod-{main_role} is back to its baseline of {before.desired}")

    print("\n9. Create the release")
    release = world.create_release(app, pr, on_event=show)
    print(f"  {release.title} tagged {release.tag}: {release.url}")

    return {
        "recycle": recycle.to_dict(),
        "scale_in": {"groups": scaled_groups},
        "release": release.to_dict(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="idp", choices=["idp", "pki"])
    parser.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    parser.add_argument("--by-hand", action="store_true",
                        help="recycle, scale in and release step by step instead of the guided deploy")
    args = parser.parse_args()
    app = args.app
    main_role = "idp" if app == "idp" else "pivcac"

    world = deploykit.World.login_gov()
    slack = SlackChannel()
    print(f"deploykit {deploykit.__version__}, simulated Login.gov at {world.now:%A %Y-%m-%d %H:%M} UTC")

    print("\n1. Is today a deploy day?")
    decision = deploykit.CadencePolicy().check(world.now.date(), "full")
    if not decision:
        print("  no: " + "; ".join(decision.reasons))
        return 1
    print("  yes: full deploys go today")

    print("\n2. Cut the release candidate from what staging runs")
    staging = world.deploy_status(app, "staging")
    print(f"  staging runs {staging.git_sha.short} ({staging.branch})")
    with tempfile.TemporaryDirectory() as workdir:
        rc = world.cut_rc(app, working_dir=workdir, on_event=show)
    print(f"  RC {rc.rc} (after RC {rc.last_rc}) on {rc.branch}, PR #{rc.pr_number}")
    print("  changelog:\n" + "\n".join("    " + line for line in rc.changelog.text.splitlines()))

    print("\n3. Announce the pending release PR")
    world.announce_pending(app, notifier=slack)

    print("\n4. True up the RC branch with stages/prod and get the PR approved")
    trued = world.true_up(app, on_event=show)
    print(f"  merged stages/prod into {trued.branch}: {trued.merged}")
    assert rc.pr_number is not None
    world.approve_pr(app, rc.pr_number, "a-reviewer")
    print(f"  PR #{rc.pr_number} approved")

    if args.by_hand:
        summary = by_hand(world, app, main_role, rc.pr_number)
    else:
        summary = guided(world, app, rc.pr_number, slack)
    if args.json:
        print(json.dumps({
            "rc": str(rc.rc),
            "branch": str(rc.branch),
            "pr": rc.pr_number,
            **summary,
            "announcements": slack.posts,
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
