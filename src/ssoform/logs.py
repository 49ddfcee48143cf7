"""Debug logging for the CLI (`-v`, `-vv`, or `SSOFORM_LOG_LEVEL`), redacted before it is written.

Every record that reaches ssoform's handler passes `RedactingFilter`: authorization and other
credential headers lose their values, and every secret value ssoform resolved this run
(credentials, secrets it sends), in any encoding `ssoform.scrub` knows, is replaced by
`(sensitive)`, whichever library logged it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping

from ssoform.scrub import REDACTED, redact_secrets, register_secret

__all__ = [
    "RedactingFilter",
    "configure_logging",
    "redact",
    "redact_headers",
    "register_secret",
]

_SENSITIVE_HEADERS = ("authorization", "x-api-key", "api-key", "apikey", "cookie", "x-auth-token")
_HEADER_VALUE = re.compile(
    r"(?i)(['\"]?(?:" + "|".join(_SENSITIVE_HEADERS) + r")['\"]?\s*[:=]\s*['\"]?)"
    r"([^'\"\r\n,}]+)"
)
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/:=-]+")
_HANDLER_NAME = "ssoform-cli"


def redact(text: str) -> str:
    """`text` without any secret registered this run (in any encoding) or credential header."""
    text = redact_secrets(text)
    text = _HEADER_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _SCHEME_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: REDACTED if name.lower() in _SENSITIVE_HEADERS else redact(value)
        for name, value in headers.items()
    }


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with secrets removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _level(verbosity: int) -> int | None:
    env = os.environ.get("SSOFORM_LOG_LEVEL", "").strip().upper()
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return logging.INFO
    if env:
        found = logging.getLevelName(env)
        return found if isinstance(found, int) else logging.WARNING
    return None


def configure_logging(verbosity: int) -> None:
    """Log to stderr at the level asked for (-v info, -vv debug, else $SSOFORM_LOG_LEVEL)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    level = _level(verbosity)
    if level is None:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
