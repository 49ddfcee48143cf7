import pytest

from ssoform.cli import main


def test_version_exits_zero(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--version"]) == 0
    assert "ssoform" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["no-such-command"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "nonexist/", "--detailed-exitcode"], "'nonexist/' does not exist"),
        (
            ["plan", "--detailed-exitcod", "x.yaml"],
            "No such option '--detailed-exitcod'. Did you mean '--detailed-exitcode'?",
        ),
        (["drift", "x.yaml", "--formt", "json"], "No such option '--formt'"),
    ],
)
def test_usage_errors_exit_one_never_the_changes_code(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 means "changes" or "drift" to CI: a usage error must never look like it."""
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("Usage: ssoform ")
