"""Ids placed in URL paths: checked against the id's format, then percent-encoded.

Ids come from providers (and from state, which came from providers), so an id like
`../../../../../admin/delete_everything?x=` must never choose the path a request goes to: each
id must match its format (a driver names the format of each of its ids; otherwise a plain token
of letters, digits and `._~:@-` that does not start with a dot), and is percent-encoded as one
path segment. Listings stop after `MAX_PAGES` pages, whatever the provider's `next` link says.
"""

from __future__ import annotations

import re
import string
import urllib.parse
from collections.abc import Mapping

from ssoform.scrub import scrub

__all__ = ["MAX_PAGES", "PLAIN_ID", "InvalidId", "path_with"]

MAX_PAGES = 1000
"""The most pages ssoform reads of one listing (a million objects at 1,000 a page)."""
PLAIN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._~:@-]{0,199}")


class InvalidId(ValueError):
    """An id that does not match its format; the message shows it scrubbed."""


def path_with(
    template: str, ids: Mapping[str, object], formats: Mapping[str, re.Pattern[str]]
) -> str:
    """`template` (`/accounts/{account}/...`) with each `{name}` replaced by `ids[name]`, checked
    against `formats[name]` (else `PLAIN_ID`) and percent-encoded."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    if names != set(ids):
        raise ValueError(f"path {template!r} needs ids {sorted(names)}, got {sorted(ids)}")
    encoded: dict[str, str] = {}
    for name, value in ids.items():
        form = formats.get(name, PLAIN_ID)
        if not isinstance(value, str) or not form.fullmatch(value):
            shown = scrub(repr(value), limit=80)
            raise InvalidId(f"refused {name} id {shown}: not a valid {name} id")
        encoded[name] = urllib.parse.quote(value, safe="")
    return template.format(**encoded)
