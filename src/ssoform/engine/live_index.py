"""Live objects as the planner sees them: one per natural key, their fingerprints, the duplicates
a provider holds and the objects no address manages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence

from ssoform.drivers.base import Driver
from ssoform.engine.plan import Unmanaged
from ssoform.model import Live

__all__ = ["DUPLICATE", "duplicate_warnings", "index_live", "live_fingerprint", "unmanaged_objects"]

DUPLICATE = "duplicate: "
"""How a plan warning about duplicates at a provider starts."""


def live_fingerprint(live: Live | None) -> str | None:
    if live is None:
        return None
    payload = {"id": live.id, "fields": live.fields, "status": live.status}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def index_live(
    objs: Iterable[Live], recorded: Mapping[tuple[str, str], str]
) -> tuple[dict[tuple[str, str], Live], list[Live]]:
    """Live objects by (scope, key), one each, and the duplicates left over.

    A provider may hold several objects for one key (three Cloudflare connectors for one
    domain). The one state records (by id) is the one managed, else the last listed; the others
    are returned, to be reported, never hidden or silently adopted."""
    chosen: dict[tuple[str, str], Live] = {}
    extras: list[Live] = []
    for obj in objs:
        key = (obj.scope, obj.key)
        other = chosen.get(key)
        if other is not None and recorded.get(key) == other.id:
            extras.append(obj)
            continue
        if other is not None:
            extras.append(other)
        chosen[key] = obj
    return chosen, extras


def duplicate_warnings(
    name: str, by_key: Mapping[tuple[str, str], Live], extras: Sequence[Live]
) -> list[str]:
    """One plan warning per key that provider instance `name` holds several objects for."""
    others: dict[tuple[str, str], list[str]] = {}
    for obj in extras:
        others.setdefault((obj.scope, obj.key), []).append(obj.id)
    return [
        f"{DUPLICATE}{name} holds {len(ids) + 1} live objects for {scope}/{key} (ids "
        f"{', '.join([by_key[(scope, key)].id, *ids])}): ssoform manages id "
        f"{by_key[(scope, key)].id}; the others are listed as unmanaged: remove the duplicates "
        "by hand"
        for (scope, key), ids in sorted(others.items())
    ]


def unmanaged_objects(
    name: str,
    driver: Driver,
    by_key: Mapping[tuple[str, str], Live],
    extras: Sequence[Live],
    claimed: Collection[tuple[str, str]],
) -> list[Unmanaged]:
    """The live objects of instance `name` no address claims, and the duplicates left over."""
    unclaimed = [obj for key, obj in sorted(by_key.items()) if key not in claimed]
    return [
        Unmanaged(
            provider=name,
            provider_type=driver.type_name,
            scope=obj.scope,
            key=obj.key,
            id=obj.id,
            fields=driver.describe_unmanaged(obj),
        )
        for obj in [*unclaimed, *extras]
    ]
