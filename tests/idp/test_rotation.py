"""Which metadata certificate `from_metadata` picks, and the reason the plan gives."""

from __future__ import annotations

import datetime as dt

import pytest

from ssoform.emulators.idp import IdpStore, make_certificate
from ssoform.idp.rotation import pick_certificates
from ssoform.idp.saml import IdpDocumentError, MetadataCertificate, parse_metadata

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _certs(*spans: tuple[int, int]) -> tuple[MetadataCertificate, ...]:
    store = IdpStore()
    pems = [make_certificate("idp.example", NOW + a * DAY, NOW + b * DAY) for a, b in spans]
    store.add_saml("i", "https://idp.example/m", "e", "https://idp.example/s", pems)
    return parse_metadata(store.metadata(store.idps["i"]).encode()).certificates


def test_one_certificate_is_picked_as_the_only_one() -> None:
    (only,) = _certs((-10, 300))
    pick = pick_certificates([only], NOW)
    assert pick.primary == only and pick.additional == ()
    assert pick.reason == (
        f"certificate from metadata: {only.short()} (O=ssoform sandbox,CN=idp.example, valid "
        "2026-05-22 to 2027-03-28), the only valid signing certificate"
    )


def test_during_a_rotation_the_newest_is_picked_and_the_old_one_kept_beside_it() -> None:
    old, new = _certs((-300, 20), (-1, 900))
    pick = pick_certificates([old, new], NOW)
    assert pick.primary == new and pick.additional == (old,)
    assert "2 valid signing certificates (a rotation)" in pick.reason
    assert f"picked {new.short()}" in pick.reason and "the one the IdP rotates to" in pick.reason
    assert f"{old.short()} (expires 2026-06-21) kept as additional" in pick.reason


def test_expired_and_future_certificates_are_left_out() -> None:
    expired, current, future = _certs((-300, -1), (-5, 100), (10, 900))
    pick = pick_certificates([expired, current, future], NOW)
    assert pick.primary == current and pick.additional == ()
    assert pick.reason.endswith("; 2 expired or not yet valid left out")


def test_no_valid_certificate_is_an_error() -> None:
    expired = _certs((-300, -1))
    with pytest.raises(IdpDocumentError, match="none of the 1 signing certificate"):
        pick_certificates(expired, NOW)
