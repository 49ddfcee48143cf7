"""Drift's way past an identity provider whose metadata cannot give a `from_metadata`
certificate: the connections signing in with it are set aside (not compared), and that is one
`idp_metadata_unreadable` finding instead of an error that stops the whole report.

Plan and apply keep refusing such a manifest (`ssoform.idp.read.resolve_from_metadata`): they
cannot send a certificate they do not know.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ssoform.errors import PlanError
from ssoform.idp.read import IdpReadout, from_metadata_names, metadata_pick
from ssoform.manifest.load import LoadedManifest
from ssoform.model import make_address
from ssoform.scrub import scrub

__all__ = ["SetAside", "set_aside_unreadable"]


@dataclass(frozen=True)
class SetAside:
    """One identity provider whose metadata could not be used, and what drift left out."""

    idp: str
    reason: str
    """The one-line reason, scrubbed (as plan would refuse with it)."""
    keys: frozenset[tuple[str, str, str]]
    """(provider instance, scope, key) of every live object its connections declare."""
    addresses: tuple[str, ...]


def set_aside_unreadable(
    loaded: LoadedManifest, readouts: Mapping[str, IdpReadout], now: dt.datetime | None = None
) -> tuple[LoadedManifest, list[SetAside]]:
    """The manifest without the connections that sign in with a `from_metadata` identity
    provider whose metadata cannot be used, and what was set aside (by identity provider)."""
    manifest = loaded.manifest
    assert manifest is not None
    now = now or dt.datetime.now(dt.UTC)
    reasons: dict[str, str] = {}
    for name in sorted(from_metadata_names(manifest)):
        try:
            metadata_pick(name, readouts.get(name), now)
        except PlanError as exc:
            reasons[name] = scrub(exc)
    if not reasons:
        return loaded, []
    keys: dict[str, set[tuple[str, str, str]]] = {name: set() for name in reasons}
    addresses: dict[str, list[str]] = {name: [] for name in reasons}
    tenants = {}
    for tname, tenant in manifest.tenants.items():
        kept = []
        for conn in tenant.connections:
            idp = conn.idp_name(tenant)
            if idp not in reasons:
                kept.append(conn)
                continue
            for scope, key in conn.live_keys(manifest, tenant):
                keys[idp].add((conn.provider, scope, key))
                addresses[idp].append(make_address(tname, conn.provider, scope, key))
        tenants[tname] = tenant.model_copy(update={"connections": kept})
    updated = manifest.model_copy(update={"tenants": tenants})
    aside = [
        SetAside(name, reasons[name], frozenset(keys[name]), tuple(sorted(addresses[name])))
        for name in sorted(reasons)
    ]
    return dataclasses.replace(loaded, manifest=updated), aside
