"""How long a provider asks ssoform to wait, read from an answer's headers.

`Retry-After` (seconds or an HTTP date) and `Retry-After-Ms`, `x-rate-limit-reset` (Unix
seconds), and the quota headers: `x-rate-limit-remaining` with `x-rate-limit-reset`, or the IETF
`RateLimit: "name";r=R;t=T` form. Values that do not parse are ignored; none is trusted to be
small: the transport compares each with its ceiling.
"""

from __future__ import annotations

import email.utils
import math
import re

import httpx

__all__ = ["DEFAULT_MAX_WAIT", "quota", "retry_after"]

DEFAULT_MAX_WAIT = 300.0
"""The longest wait a provider may ask for before ssoform gives that provider up: 5 minutes,
which covers Cloudflare's documented 5-minute block after its rate limit is exceeded."""

_RATELIMIT_PARAM = re.compile(r";\s*([a-z]+)=([0-9.]+)")


def _number(value: str) -> float | None:
    try:
        found = float(value)
    except ValueError:
        return None
    return found if math.isfinite(found) else None


def retry_after(headers: httpx.Headers, now: float) -> float | None:
    """Seconds the answer asks to wait before asking again, if it says."""
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        seconds = _number(value)
        if seconds is not None:
            return max(0.0, seconds / 1000 if name == "retry-after-ms" else seconds)
        try:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError, OverflowError):
            parsed = None
        if parsed is not None:
            try:
                return max(0.0, parsed.timestamp() - now)
            except (OverflowError, ValueError, OSError):
                return None
    reset = headers.get("x-rate-limit-reset")
    found = _number(reset) if reset is not None else None
    return None if found is None else max(0.0, found - now)


def quota(headers: httpx.Headers, now: float) -> tuple[int, float] | None:
    """(requests remaining, seconds until the window resets) from an answer's headers."""
    remaining = headers.get("x-rate-limit-remaining")
    reset = headers.get("x-rate-limit-reset")
    if remaining is not None and reset is not None:
        left, at = _number(remaining), _number(reset)
        if left is not None and at is not None:
            return int(left), at - now
        return None
    structured = headers.get("ratelimit")
    if structured is not None:
        params = dict(_RATELIMIT_PARAM.findall(structured))
        left = _number(params.get("r", ""))
        seconds = _number(params.get("t", ""))
        if left is not None and seconds is not None:
            return int(left), seconds
    return None
