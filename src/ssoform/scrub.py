"""Making untrusted text safe to show and to store: secrets out, control characters out, capped.

Every text a provider sends back (error messages and codes, header values such as `Location` and
`Content-Type`, ids) passes `scrub` before it reaches a `DriverError`, and so the terminal, the
logs or the state journal. A provider that echoes a request may hand a secret back in any of the
encodings it travelled in, so each secret is looked for raw, JSON-escaped (once and twice, with
and without `\\/` and `\\uXXXX` escapes), percent-encoded (path and form styles, upper and lower
hex) and in base64 and base64url (padded or not, and at each of the three byte alignments it can
take inside a longer base64 text). ANSI escape sequences and every control, format and separator
character go, newlines become spaces, so a provider cannot print a line of its own (a fake
`Apply complete!`). The result is at most `MAX_TEXT` characters.

The registry holds every secret value resolved this run (credentials and the secrets sent);
`ssoform.logs` redacts log records with it too.

Field values a provider returns (names, domains, URLs, ids) are different: a plan must still show
that a live value differs from the manifest, so they are not cleaned before the diff. They pass
`redact_value` (secrets out, nothing else changed) on their way into a plan or report, and
`visible` where a person reads them: each control, format (bidi) or separator character spelled
out (`\\x1b`, `\\u202e`, `\\n`), and a long value cut with a marker naming its length.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MAX_SHOWN",
    "MAX_TEXT",
    "REDACTED",
    "clean",
    "holds_secret",
    "known_secrets",
    "redact_secrets",
    "redact_value",
    "register_secret",
    "scrub",
    "secret_forms",
    "spelled",
    "visible",
]

REDACTED = "(sensitive)"
MAX_TEXT = 300
"""The longest provider-sourced text ssoform shows or stores, in characters."""
MAX_SHOWN = 1_000
"""The longest provider-sourced value a human output shows, in characters (JSON holds it whole)."""
MIN_SECRET = 4
"""Shorter values are not treated as secrets (they would blank out ordinary words)."""

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase line
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the 8-bit CSI
)
_SPACES = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class _Index:
    """Secret spellings, found in one pass over a text however many secrets a run resolved: at
    each position, the spellings' first characters say whether any may start there and which
    lengths to try (longest first), and a set lookup says whether one does. (A regular
    expression of thousands of alternatives would try each at every position.)"""

    def __init__(self) -> None:
        self.forms: set[str] = set()
        self.secrets: set[str] = set()
        self.longest = 0
        self._lengths: dict[str, set[int]] = {}
        self._order: dict[str, tuple[int, ...]] = {}

    def add(self, value: str) -> None:
        if value in self.secrets or len(value) < MIN_SECRET:
            return
        self.secrets.add(value)
        for form in secret_forms(value) - self.forms:
            self.forms.add(form)
            prefix = form[:MIN_SECRET]
            self._lengths.setdefault(prefix, set()).add(len(form))
            self._order.pop(prefix, None)
            self.longest = max(self.longest, len(form))

    def _lengths_at(self, prefix: str) -> tuple[int, ...]:
        order = self._order.get(prefix)
        if order is None:
            order = self._order[prefix] = tuple(sorted(self._lengths[prefix], reverse=True))
        return order

    def redact(self, text: str) -> str:
        if not self.forms:
            return text
        parts: list[str] = []
        i = last = 0
        end = len(text) - MIN_SECRET
        while i <= end:
            prefix = text[i : i + MIN_SECRET]
            if prefix in self._lengths:
                found = next(
                    (n for n in self._lengths_at(prefix) if text[i : i + n] in self.forms), 0
                )
                if found:
                    parts.extend((text[last:i], REDACTED))
                    i = last = i + found
                    continue
            i += 1
        return "".join(parts) + text[last:] if parts else text


_REGISTERED = _Index()
_PENDING: set[str] = set()
"""Registered but not yet indexed: spelling out each secret's forms waits for the first text
to scrub (a plan of thousands of OIDC connections registers thousands and may scrub none)."""


def register_secret(value: str) -> None:
    """Remember a secret value so that no error, journal entry or log line ever shows it."""
    if len(value) >= MIN_SECRET and value not in _REGISTERED.secrets:
        _PENDING.add(value)


def known_secrets() -> frozenset[str]:
    """Every secret value registered this run."""
    return frozenset(_REGISTERED.secrets | _PENDING)


def _registered() -> _Index:
    while _PENDING:
        _REGISTERED.add(_PENDING.pop())
    return _REGISTERED


def scrub(text: object, secrets: Iterable[str] = (), *, limit: int = MAX_TEXT) -> str:
    """`text` made safe to show: every secret (registered or given) in every encoding replaced
    by `(sensitive)`, escapes and control characters removed, at most `limit` characters."""
    secrets = tuple(secrets)
    longest = max((len(f) for s in secrets for f in secret_forms(s)), default=0)
    value = clean(str(text))
    value = value[: 4 * limit + 2 * max(longest, _registered().longest)]  # bound the work
    value = redact_secrets(value, secrets)
    return value if len(value) <= limit else value[: limit - 3] + "..."


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret (registered or given) in every encoding replaced, nothing else
    changed (for log records, which may span lines)."""
    registered = _registered()
    extra = [s for s in secrets if s not in registered.secrets and len(s) >= MIN_SECRET]
    if extra:
        index = _Index()
        for value in extra:
            index.add(value)
        text = index.redact(text)
    return registered.redact(text)


def holds_secret(text: str) -> bool:
    """Whether `text` holds a registered secret in any of its encodings."""
    return redact_secrets(text) != text


def clean(text: str) -> str:
    """`text` on one line: ANSI escapes dropped, line breaks and tabs turned into one space, and
    every other control, format (bidi overrides, zero-width) or separator character dropped."""
    text = _SPACES.sub(" ", _ESCAPES.sub("", text))
    if text.isprintable():
        return text
    return "".join(c for c in text if unicodedata.category(c) not in _DROPPED)


def redact_value(value: Any) -> Any:
    """`value` (JSON-like data) with every registered secret, in every encoding, replaced in each
    string and mapping key it holds; nothing else changed (so differences stay differences)."""
    registered = _registered()
    if not registered.forms:
        return value
    return _redact_in(value, registered)


def _redact_in(value: Any, index: _Index) -> Any:
    if isinstance(value, str):
        return index.redact(value)
    if isinstance(value, Mapping):
        return {_redact_in(k, index): _redact_in(v, index) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_in(v, index) for v in value)
    return value


_SPELLING = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def spelled(text: str) -> str:
    """`text` with every control, format (bidi, zero-width), separator and unassigned character
    written as its escape (`\\x1b`, `\\u202e`, `\\n`), so it shows and cannot act."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _spell(c) for c in text)


def _spell(char: str) -> str:
    code = ord(char)
    if char in _SPELLING:
        return _SPELLING[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: object, *, limit: int = MAX_SHOWN) -> str:
    """`text` as a terminal, Markdown or HTML report may show it: registered secrets redacted,
    control characters spelled out (`spelled`), and at most `limit` characters before a marker
    that says how long the whole was."""
    whole = str(text)
    bound = 2 * limit + 2 * _registered().longest  # bound the work; the cut comes after redaction
    shown = spelled(redact_secrets(whole[:bound]))
    if len(whole) <= bound and len(shown) <= limit:
        return shown
    return f"{shown[:limit]}… ({len(whole):,} characters)"


@functools.lru_cache(maxsize=1024)
def secret_forms(value: str) -> frozenset[str]:
    """Every spelling of `value` a provider can send back (the value itself included)."""
    forms = {value, clean(value)}  # a value holding a newline reaches the text cleaned
    for text in (value, *_json_forms(value)):
        forms.add(text)
        for safe in ("", "/"):
            quoted = urllib.parse.quote(text, safe=safe)
            forms.update({quoted, _lower_hex(quoted)})
        plus = urllib.parse.quote_plus(text)
        forms.update({plus, _lower_hex(plus)})
        forms.update(_base64_forms(text.encode()))
    return frozenset(f for f in forms if len(f) >= MIN_SECRET)


def _json_forms(value: str) -> set[str]:
    once = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    forms = set(once)
    for text in once:
        forms.add(text.replace("/", "\\/"))
        forms.add(json.dumps(text)[1:-1])  # escaped twice: a JSON body quoted in a JSON message
    return forms


def _lower_hex(quoted: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)


def _base64_forms(raw: bytes) -> set[str]:
    """The secret in base64 and base64url, whole, and the part of it that is the same wherever
    it starts within a longer encoded text (each of the three alignments, edges dropped)."""
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms.update({whole, whole.rstrip("=")})
        if len(raw) < 9:
            continue
        for shift in range(3):
            encoded = encode(b"\0" * shift + raw).decode()
            start = 4 if shift else 0  # the first group mixes in bytes that are not the secret
            stop = len(raw) + shift - (len(raw) + shift) % 3  # whole groups of the secret only
            forms.add(encoded[start : stop // 3 * 4])
    return forms
