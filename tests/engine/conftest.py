from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes import CLOUD, FAKE_DRIVERS
from ssoform.engine.wiring import RunConfig
from workspace import CANARY, Workspace


@pytest.fixture
def ws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    monkeypatch.setenv("OKTA_SECRET", CANARY)
    monkeypatch.setenv("CF_TOKEN", "cf-token")
    monkeypatch.setenv("DS_KEY", "ds-key")
    monkeypatch.chdir(tmp_path)
    fake_config: Callable[..., RunConfig] = lambda **kw: RunConfig(  # noqa: E731
        driver_classes=FAKE_DRIVERS, backoff=False, **kw
    )
    monkeypatch.setattr("ssoform.commands.plan.run_config", fake_config)
    monkeypatch.setattr("ssoform.commands.apply.run_config", fake_config)
    CLOUD.__init__()  # type: ignore[misc]
    yield Workspace(tmp_path, capsys)
