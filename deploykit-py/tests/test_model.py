"""The model's value types: parsing, arithmetic, errors on bad input."""

import datetime
import json

import pytest

import deploykit
from deploykit import DeployStatus, RcBranch, ReleaseNumber, Sha


def test_sha_parses_and_lowercases() -> None:
    sha = Sha("0123456789ABCDEF0123456789abcdef01234567")
    assert sha.text == "0123456789abcdef0123456789abcdef01234567"
    assert str(sha) == sha.text
    assert sha.short == "0123456"
    assert sha.is_full
    assert sha.matches(Sha("0123456"))
    assert not Sha("abcdef1").matches(Sha("abcdef2"))
    assert repr(Sha("abcdef1")) == "Sha('abcdef1')"
    assert Sha("ABCDEF1") == Sha("abcdef1")
    assert len({Sha("abcdef1"), Sha("ABCDEF1")}) == 1


@pytest.mark.parametrize("text", ["", "xyz", "12", "g" * 40, "a" * 41])
def test_bad_sha_is_invalid_input(text: str) -> None:
    with pytest.raises(deploykit.InvalidInputError, match="hexadecimal"):
        Sha(text)


def test_release_numbers_follow_the_guide() -> None:
    n = ReleaseNumber("112")
    assert (n.major, n.minor, n.is_patch) == (112, None, False)
    assert n.next_patch() == ReleaseNumber("112.1")
    assert n.next_patch().next_patch() == ReleaseNumber("112.2")
    assert ReleaseNumber("112.2").next_full() == ReleaseNumber("113")
    assert ReleaseNumber.full(7) == ReleaseNumber("7")
    assert ReleaseNumber("113") > ReleaseNumber("112.9") > ReleaseNumber("112")
    assert str(ReleaseNumber("112.1")) == "112.1"
    assert repr(ReleaseNumber("112.1")) == "ReleaseNumber('112.1')"
    assert ReleaseNumber.from_release_title("RC 112.1") == ReleaseNumber("112.1")
    assert ReleaseNumber.from_pr_title("Deploy RC 112 to Production") == ReleaseNumber("112")
    assert sorted([ReleaseNumber("2"), ReleaseNumber("1.1"), ReleaseNumber("1")]) == [
        ReleaseNumber("1"),
        ReleaseNumber("1.1"),
        ReleaseNumber("2"),
    ]


@pytest.mark.parametrize("text", ["", "rc", "1.2.3", ".1", "1.", "-1", "abc"])
def test_bad_release_number_is_invalid_input(text: str) -> None:
    with pytest.raises(ValueError, match="release number"):
        ReleaseNumber(text)


def test_bad_titles_say_the_expected_form() -> None:
    with pytest.raises(deploykit.InvalidInputError, match="RC <number>"):
        ReleaseNumber.from_release_title("Release 112")
    with pytest.raises(deploykit.InvalidInputError, match="to Production"):
        ReleaseNumber.from_pr_title("Deploy RC 112")


def test_rc_branches() -> None:
    b = RcBranch("stages/rc-2024-01-09")
    assert b.date == datetime.date(2024, 1, 9)
    assert b.ordinal == 1
    assert b.name == "stages/rc-2024-01-09"
    assert str(b.next_same_day().next_same_day()) == "stages/rc-2024-01-09.3"
    assert RcBranch.first(datetime.date(2026, 11, 27)) == RcBranch("stages/rc-2026-11-27")
    assert RcBranch.is_rc_branch("stages/rc-2020-06-17.2")
    assert not RcBranch.is_rc_branch("stages/prod")
    assert RcBranch("stages/rc-2024-01-09.2") > b
    with pytest.raises(deploykit.InvalidInputError, match="stages/rc-YYYY-MM-DD"):
        RcBranch("stages/rc-2024-02-30")


FULL_STATUS = {
    "env": "staging",
    "branch": "main",
    "user": "root",
    "git_sha": "0123456789abcdef0123456789abcdef01234567",
    "git_date": "2024-01-09T12:34:56-05:00",
    "chef_run_timestamp": "20240109180102",
    "instance_id": "i-0abc123def4567890",
    "devops_git_sha": "fedcba9876543210fedcba9876543210fedcba98",
}


def test_deploy_status_parses() -> None:
    s = DeployStatus.parse(json.dumps(FULL_STATUS))
    assert s.git_sha == Sha(FULL_STATUS["git_sha"])
    assert (s.env, s.branch, s.user) == ("staging", "main", "root")
    assert s.git_date == datetime.datetime(
        2024, 1, 9, 12, 34, 56, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
    )
    assert s.chef_run_timestamp == datetime.datetime(2024, 1, 9, 18, 1, 2)
    assert s.devops_git_sha is not None and s.devops_git_sha.short == "fedcba9"
    assert s.devops_git_date is None
    d = s.to_dict()
    assert d["git_sha"] == FULL_STATUS["git_sha"]
    assert d["branch"] == "main"
    assert json.loads(s.to_json()) == d
    assert "0123456" in repr(s)


def test_container_status_needs_only_the_sha() -> None:
    s = DeployStatus.parse('{"branch":"main","git_sha":"abcdef1"}')
    assert s.git_sha.text == "abcdef1"
    assert s.user is None


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("<html>Bad Gateway</html>", "not JSON"),
        ('{"branch":"main"}', 'no "git_sha"'),
        ('{"git_sha":"abcdef1","git_date":"yesterday"}', "ISO 8601"),
    ],
)
def test_bad_deploy_status_says_what_is_wrong(doc: str, expected: str) -> None:
    with pytest.raises(deploykit.InvalidInputError) as info:
        DeployStatus.parse(doc)
    assert expected in str(info.value)
    assert info.value.kind == "invalid_input"
