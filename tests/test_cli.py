import gc
from pathlib import Path

import pytest

from ssoform.cli import main, tuned_collector
from ssoform.manifest.load import LoadedManifest, LoadOptions


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


EXAMPLES = Path(__file__).parents[1] / "examples" / "manifests"


@pytest.mark.parametrize("tuned", [False, True])
def test_only_the_entry_point_tunes_the_garbage_collector(
    tuned: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script loads without the cyclic collector and freezes what it loaded; a
    library caller of `main` (and every library module) leaves the collector as it found it."""
    import ssoform.commands.validate as validate

    seen: list[bool] = []
    real = validate.load_manifest

    def load(paths: list[Path], options: LoadOptions | None = None) -> LoadedManifest:
        seen.append(gc.isenabled())
        return real(paths, options)

    monkeypatch.setattr(validate, "load_manifest", load)
    assert gc.get_freeze_count() == 0
    try:
        assert main(["validate", str(EXAMPLES)], tune_collector=tuned) == 0
        assert seen == [not tuned]
        assert gc.isenabled()
        assert (gc.get_freeze_count() > 0) is tuned
    finally:
        gc.unfreeze()
        gc.enable()
    capsys.readouterr()


def test_the_tuned_collector_is_enabled_again_when_loading_fails() -> None:
    with pytest.raises(ValueError, match="bad"), tuned_collector():
        assert not gc.isenabled()
        raise ValueError("bad")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
