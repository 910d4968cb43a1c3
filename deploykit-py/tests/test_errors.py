"""The exception tree: one base, one subclass per kind, attributes on every instance."""

import datetime
from collections.abc import Callable

import pytest

import deploykit

KINDS = {
    "NotFoundError": ("not_found", False),
    "ConflictError": ("conflict", False),
    "UnsafeError": ("unsafe", False),
    "PolicyRefusedError": ("policy_refused", False),
    "UnauthenticatedError": ("unauthenticated", False),
    "RateLimitedError": ("rate_limited", True),
    "DeployTimeoutError": ("timeout", True),
    "InvalidInputError": ("invalid_input", False),
    "BackendError": ("backend", False),
    "UnsupportedError": ("unsupported", False),
    "InterruptedError": ("interrupted", False),
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_has_a_subclass_of_the_base(name: str) -> None:
    cls = getattr(deploykit, name)
    assert issubclass(cls, deploykit.DeployKitError)
    assert issubclass(cls, Exception)
    assert cls.__module__ == "deploykit"
    kind, retryable = KINDS[name]
    assert cls.kind == kind
    assert cls.retryable is retryable


def test_some_kinds_are_also_builtins() -> None:
    assert issubclass(deploykit.NotFoundError, LookupError)
    assert issubclass(deploykit.InvalidInputError, ValueError)
    assert issubclass(deploykit.DeployTimeoutError, TimeoutError)
    assert not issubclass(deploykit.ConflictError, ValueError)
    # deploykit's InterruptedError is its own, not the OS one (EINTR).
    assert not issubclass(deploykit.InterruptedError, OSError)


def test_errors_from_rust_carry_kind_retryable_context() -> None:
    class Monitor:
        def sample(
            self, env: str, role: str, start: datetime.datetime, end: datetime.datetime
        ) -> list[dict[str, object]]:
            return []

    now = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(deploykit.DeployKitError) as info:
        deploykit.sample(Monitor(), "Prod", "idp", now, now + datetime.timedelta(minutes=5))
    err = info.value
    assert isinstance(err, deploykit.InvalidInputError)
    assert isinstance(err, ValueError)
    assert err.kind == "invalid_input"
    assert err.retryable is False
    assert dict(err.context) == {"environment": "Prod"}
    assert "invalid environment name" in err.message
    assert "environment: Prod" in str(err)  # the context follows the message


def test_catching_the_base_catches_everything() -> None:
    with pytest.raises(deploykit.DeployKitError):
        deploykit.Sha("not a sha")


def test_python_code_can_raise_them_too() -> None:
    err = deploykit.ConflictError("lock held")
    assert err.kind == "conflict"
    assert err.retryable is False
    assert dict(err.context) == {}
    with pytest.raises(deploykit.ConflictError, match="lock held"):
        raise err


def test_star_import_keeps_the_builtin_interrupted_error() -> None:
    namespace: dict[str, object] = {}
    exec("from deploykit import *", namespace)
    assert "DeployKitError" in namespace
    assert "InterruptedError" not in namespace  # the builtin stays visible
    assert deploykit.InterruptedError.kind == "interrupted"


def test_a_stopped_run_s_error_says_how_to_resume_it_in_python() -> None:
    world = deploykit.World.login_gov()
    rc = world.cut_rc("idp")
    assert rc.pr_number is not None
    world.true_up("idp")
    world.approve_pr("idp", rc.pr_number)

    def crashing_operator(request: dict[str, object]) -> str:
        raise RuntimeError("operator crashed")

    with pytest.raises(deploykit.BackendError) as info:
        world.deploy("idp", "prod", pr=rc.pr_number, decide=crashing_operator)
    (run_id,) = world.runs()
    assert info.value.context["resume"] == f'resume("{run_id}")'
    assert f'resume: resume("{run_id}")' in str(info.value)
    assert "deploykit resume" not in str(info.value)
    assert info.value.message.startswith("the Python operator's decide() raised RuntimeError")


def test_a_bad_argument_is_invalid_input_naming_it_and_what_it_accepts() -> None:
    world = deploykit.World.login_gov()
    cases: list[tuple[Callable[[], object], str, str]] = [
        (lambda: world.deploy("idp", "prod", pr=-1), "pr=-1 (int)", "pull request number"),
        (lambda: world.plan_deploy("idp", "prod", pr=0), "pr=0 (int)", "1 or more"),
        (lambda: world.approve_pr("idp", -1), "number=-1 (int)", "pull request number"),
        (lambda: world.merge_pr("idp", 2**70), "number=1180591620717411303424", "1 or more"),
        (lambda: world.create_release("idp", 1.5), "pr=1.5 (float)", "pull request"),  # type: ignore[arg-type]
        (
            lambda: deploykit.Backends(newrelic_account_id=-5),
            "newrelic_account_id=-5 (int)",
            "New Relic account id",
        ),
        (
            lambda: deploykit.build_changelog("abc"),  # type: ignore[arg-type]
            "commits='abc' (str)",
            "a list of commits",
        ),
        (lambda: world.advance("soon"), "seconds='soon' (str)", "a number of seconds"),  # type: ignore[arg-type]
        (lambda: world.inject_fault("vcs.push", times=2**70), "times=", "1 or more"),
        (lambda: deploykit.ReleaseNumber.full(-1), "major=-1 (int)", "release number"),
    ]
    for call, named, accepted in cases:
        with pytest.raises(deploykit.InvalidInputError) as info:
            call()
        assert named in str(info.value) and accepted in str(info.value), str(info.value)
        assert info.value.kind == "invalid_input"
        assert isinstance(info.value, ValueError)
    # Nothing was deployed or changed.
    assert world.runs() == []
