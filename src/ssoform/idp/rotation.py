"""Which of the metadata's signing certificates a provider should hold, and why.

During a rotation an identity provider publishes two certificates: the one it signs with today
and the one it moves to. The newest certificate valid now becomes `certificate` (a provider
that holds only one must hold the one the IdP rotates to); the other certificates still valid
become additional certificates, which providers that accept several (Descope) hold during the
overlap. Expired and not-yet-valid certificates are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ssoform.idp.saml import IdpDocumentError, MetadataCertificate

__all__ = ["Pick", "pick_certificates"]


@dataclass(frozen=True)
class Pick:
    primary: MetadataCertificate
    additional: tuple[MetadataCertificate, ...]
    reason: str


def _day(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def pick_certificates(certs: Sequence[MetadataCertificate], now: dt.datetime) -> Pick:
    """The certificate to hold and the others to hold beside it; raises IdpDocumentError when
    none is valid now."""
    valid = [c for c in certs if c.valid_at(now)]
    if not valid:
        raise IdpDocumentError(
            f"none of the {len(certs)} signing certificate(s) the metadata publishes is valid now"
        )
    order = {c.sha256: i for i, c in enumerate(certs)}
    ranked = sorted(valid, key=lambda c: (c.not_before, order[c.sha256]), reverse=True)
    primary, others = ranked[0], tuple(ranked[1:])
    left_out = len(certs) - len(valid)
    skipped = f"; {left_out} expired or not yet valid left out" if left_out else ""
    if not others:
        reason = (
            f"certificate from metadata: {primary.short()} ({primary.subject}, valid "
            f"{_day(primary.not_before)} to {_day(primary.not_after)}), the only valid "
            f"signing certificate{skipped}"
        )
    else:
        kept = ", ".join(f"{c.short()} (expires {_day(c.not_after)})" for c in others)
        reason = (
            f"certificate from metadata: {len(valid)} valid signing certificates (a rotation); "
            f"picked {primary.short()} ({primary.subject}, valid from "
            f"{_day(primary.not_before)}) as the newest, the one the IdP rotates to; "
            f"{kept} kept as additional certificate(s) for providers that accept several"
            f"{skipped}"
        )
    return Pick(primary, others, reason)
