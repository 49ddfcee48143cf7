"""Scrubbing provider text: every secret encoding, control characters and escapes, the cap."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

import pytest

from ssoform.errors import DriverError
from ssoform.scrub import MAX_TEXT, REDACTED, clean, register_secret, scrub

SECRET = 'CANARY"SEC\\RET/+ü=?&'


def _b64_inside(value: str, shift: int) -> str:
    """`value` base64-encoded inside a longer text, starting `shift` bytes into a group."""
    return base64.b64encode(b"x" * shift + value.encode() + b"tail").decode()


ENCODINGS = {
    "raw": SECRET,
    "JSON-escaped": json.dumps(SECRET)[1:-1],
    "JSON-escaped, not ASCII-only": json.dumps(SECRET, ensure_ascii=False)[1:-1],
    "JSON-escaped twice": json.dumps(json.dumps(SECRET))[1:-1],
    "JSON with escaped slashes": json.dumps(SECRET)[1:-1].replace("/", "\\/"),
    "percent-encoded": urllib.parse.quote(SECRET, safe=""),
    "percent-encoded, lower-case hex": re.sub(
        "%[0-9A-F]{2}", lambda m: m.group(0).lower(), urllib.parse.quote(SECRET, safe="")
    ),
    "form-encoded": urllib.parse.quote_plus(SECRET),
    "base64": base64.b64encode(SECRET.encode()).decode(),
    "base64url": base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_secret_is_scrubbed_in_every_encoding(encoding: str) -> None:
    scrubbed = scrub(f"bad token {ENCODINGS[encoding]} given", [SECRET])
    assert scrubbed.startswith("bad token ") and scrubbed.endswith(" given"), scrubbed
    assert REDACTED in scrubbed and "CANARY" not in scrubbed.upper(), scrubbed
    assert "SEC" not in scrubbed.upper(), scrubbed


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_a_secret_base64_encoded_inside_a_longer_text_loses_its_core(shift: int) -> None:
    secret = "canary-secret-0123456789"
    encoded = _b64_inside(secret, shift)
    scrubbed = scrub(f"echo {encoded}", [secret], limit=1000)
    assert REDACTED in scrubbed
    for start in range(len(secret) - 9):  # no 10 bytes of the secret survive, at any alignment
        piece = base64.b64encode(secret[start : start + 10].encode()).decode()[:-4]
        assert piece not in scrubbed


def test_registered_secrets_are_scrubbed_without_being_passed() -> None:
    register_secret("registered-canary-77f1")
    assert "registered" not in scrub("echo registered-canary-77f1")


def test_control_characters_cannot_print_a_line_of_their_own() -> None:
    hostile = "boom\n\x1b[2K\rApply complete! Resources: 0\x1b]0;title\x07\u202e\x00 done\r\n"
    cleaned = scrub(hostile)
    assert "\n" not in cleaned and "\r" not in cleaned and "\x1b" not in cleaned
    assert "\u202e" not in cleaned and "\x00" not in cleaned
    assert cleaned == "boom Apply complete! Resources: 0 done "
    assert clean("tab\tand\u2028separator") == "tab and separator"


def test_text_is_capped_after_the_secrets_go() -> None:
    secret = "s" * 50 + "canary"
    text = "x" * (MAX_TEXT - 10) + secret + "y" * 1000
    scrubbed = scrub(text, [secret])
    assert len(scrubbed) <= MAX_TEXT and scrubbed.endswith("...")
    assert "ssssssssss" not in scrubbed


def test_every_part_of_a_driver_error_is_scrubbed() -> None:
    register_secret("driver-error-canary")
    error = DriverError(
        "cf", "read driver-error-canary", "echo\ndriver-error-canary", code="driver-error-canary"
    )
    assert "canary" not in str(error) and "\n" not in str(error)
    assert error.code == REDACTED


def test_the_journal_never_stores_unscrubbed_text() -> None:
    from ssoform.engine.state import State

    register_secret("journal-canary-0b1e")
    state = State()
    state.journal_append("a/b/c/d", "create", "failed", "echo journal-canary-0b1e\n\x1b[31mred")
    assert state.journal[-1].detail == f"echo {REDACTED} red"
