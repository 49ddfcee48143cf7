"""Debug logs never show a secret the run resolved, whichever library writes the line.

This test fails when the replacement of resolved secret values in `logs.redact` is switched off:
the lines below carry the value bare (no header name, no `Bearer`), where only that replacement
can catch it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssoform.logs import configure_logging
from ssoform.manifest.secrets import SecretRef, SecretResolver

VALUE = "canary-redaction-5d1e-value"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """What `-vv` logging writes (ssoform's own handler, pointed at a buffer)."""
    configure_logging(2)
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "ssoform-cli"]
    buffer = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    configure_logging(0)


def test_a_secret_the_resolver_handed_out_never_reaches_the_log(
    debug_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDACTION_CANARY", VALUE)
    resolved = SecretResolver().resolve(SecretRef(env="REDACTION_CANARY"), Path.cwd())
    assert resolved == VALUE
    logging.getLogger("httpx").debug("body=%s", json.dumps({"client_secret": resolved}))
    logging.getLogger("some.library").debug("value %s in the middle", resolved)
    try:
        raise ValueError(f"rejected {resolved}")
    except ValueError:
        logging.getLogger("ssoform.http").debug("failed", exc_info=True)
    err = debug_log.getvalue()
    assert "DEBUG httpx: body=" in err  # the log was on
    assert VALUE not in err
    assert err.count("(sensitive)") >= 3
