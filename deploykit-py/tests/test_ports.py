"""Python objects as ports: a notifier and a monitor, called through the Rust port traits."""

import datetime
from typing import Any

import pytest

import deploykit
from conftest import DONE, END, START, RecordingNotifier, run



def test_python_notifier_receives_announcements() -> None:
    notifier = RecordingNotifier()
    deploykit.announce(notifier, DONE)
    assert notifier.announcements == [
        {
            **DONE,
            "text": "Deploy of RC 112 to idp in prod is complete: "
            "https://github.com/18F/identity-idp/releases/tag/RC-112",
        }
    ]


def test_python_notifier_async() -> None:
    notifier = RecordingNotifier()
    run(lambda: deploykit.announce_async(
            notifier, {"type": "recycle_start", "app": "pki", "env": "staging", "rc": None}
        )
    )
    assert [a["type"] for a in notifier.announcements] == ["recycle_start"]
    assert notifier.announcements[0]["text"] == (
        "Starting a recycle of pki in staging to deploy the current code"
    )


def test_notifier_failure_becomes_a_backend_error() -> None:
    class Broken:
        def announce(self, announcement: dict[str, Any]) -> None:
            raise RuntimeError("slack is down")

    with pytest.raises(deploykit.BackendError, match="slack is down") as info:
        deploykit.announce(Broken(), DONE)
    assert info.value.context["python_exception"] == "RuntimeError"


def test_notifier_raising_a_deploykit_error_keeps_its_kind() -> None:
    class Throttled:
        def announce(self, announcement: dict[str, Any]) -> None:
            raise deploykit.RateLimitedError("429 from Slack")

    with pytest.raises(deploykit.RateLimitedError, match="429") as info:
        deploykit.announce(Throttled(), DONE)
    assert info.value.retryable is True


def test_objects_without_the_method_are_refused() -> None:
    with pytest.raises(deploykit.InvalidInputError, match="announce"):
        deploykit.announce(object(), DONE)  # type: ignore[arg-type]
    with pytest.raises(deploykit.InvalidInputError, match="sample"):
        deploykit.sample(object(), "prod", "idp", START, END)  # type: ignore[arg-type]


def test_bad_announcement_is_invalid_input() -> None:
    with pytest.raises(deploykit.InvalidInputError, match="deploy_done"):
        deploykit.announce(RecordingNotifier(), {"type": "party"})


class Monitor:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, datetime.datetime, datetime.datetime]] = []

    def sample(
        self, env: str, role: str, start: datetime.datetime, end: datetime.datetime
    ) -> list[dict[str, Any]]:
        self.calls.append((env, role, start, end))
        return [
            {"sha": "aaaaaaa", "requests": 1000, "errors_5xx": 2, "instances": 4},
            {
                "sha": "bbbbbbb",
                "requests": 200,
                "errors_5xx": 10,
                "instances": 2,
                "first_seen": start + datetime.timedelta(seconds=30),
                "flows": [{"name": "idv", "attempts": 10, "successes": 9}],
            },
        ]


def test_python_monitor_is_sampled() -> None:
    monitor = Monitor()
    sample = deploykit.sample(monitor, "prod", "idp", START, END)
    assert monitor.calls == [("prod", "idp", START, END)]
    assert (sample.start, sample.end) == (START, END)
    old, new = sample.per_sha
    assert old.sha == deploykit.Sha("aaaaaaa")
    assert old.error_rate == pytest.approx(0.002)
    assert old.first_seen is None
    assert new.error_rate == pytest.approx(0.05)
    assert new.first_seen == START + datetime.timedelta(seconds=30)
    assert new.flows == [{"name": "idv", "attempts": 10, "successes": 9}]
    assert sample.to_dict()["per_sha"][1]["errors_5xx"] == 10
    assert "shas=2" in repr(sample)


def test_python_monitor_async_and_dict_form() -> None:
    class DictMonitor:
        def sample(self, *args: object) -> dict[str, Any]:
            return {"per_sha": []}

    sample = run(lambda: deploykit.sample_async(DictMonitor(), "staging", "worker", START, END))
    assert sample.per_sha == []


def test_bad_monitor_answer_is_invalid_input() -> None:
    class Bad:
        def sample(self, *args: object) -> list[dict[str, Any]]:
            return [{"sha": "aaaaaaa"}]

    with pytest.raises(deploykit.InvalidInputError, match="per-SHA"):
        deploykit.sample(Bad(), "prod", "idp", START, END)


def test_impossible_figures_are_invalid_input_and_a_sha_may_be_deploykits_own() -> None:
    class Counts:
        def __init__(self, errors: int, successes: int) -> None:
            self.errors, self.successes = errors, successes

        def sample(self, *args: object) -> list[dict[str, Any]]:
            return [
                {
                    # deploykit's own Sha (from a deploy status, say) stands for its text.
                    "sha": deploykit.Sha("bbbbbbb"),
                    "requests": 100,
                    "errors_5xx": self.errors,
                    "instances": 2,
                    "flows": [{"name": "idv", "attempts": 10, "successes": self.successes}],
                }
            ]

    sample = deploykit.sample(Counts(1, 9), "prod", "idp", START, END)
    assert sample.per_sha[0].sha == deploykit.Sha("bbbbbbb")
    with pytest.raises(deploykit.InvalidInputError, match="110 5xx of 100 requests"):
        deploykit.sample(Counts(110, 9), "prod", "idp", START, END)
    with pytest.raises(deploykit.InvalidInputError, match="succeeded 11 times of 10"):
        deploykit.sample(Counts(1, 11), "prod", "idp", START, END)


def test_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(deploykit.InvalidInputError, match="before it starts"):
        deploykit.sample(Monitor(), "prod", "idp", END, START)
