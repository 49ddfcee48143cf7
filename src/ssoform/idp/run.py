"""The identity provider's side in a run: read once, fold `from_metadata` certificates into the
manifest before it is expanded, and say in the plan which certificate was picked and why."""

from __future__ import annotations

from collections.abc import Mapping

from ssoform.drivers.base import Driver, ExpandContext
from ssoform.drivers.registry import driver_class
from ssoform.engine.plan import Plan
from ssoform.engine.wiring import RunConfig
from ssoform.idp.read import IdpReadout, from_metadata_names, read_identity_providers
from ssoform.idp.rotation import Pick
from ssoform.manifest.load import LoadedManifest

__all__ = ["binding_of", "note_picks", "read_for"]


async def read_for(
    loaded: LoadedManifest, config: RunConfig, *, everything: bool
) -> dict[str, IdpReadout]:
    """Every identity provider (drift), or only those whose certificate comes from their
    metadata (plan, apply); nothing is fetched when none is needed."""
    manifest = loaded.manifest
    assert manifest is not None
    names = set(manifest.identity_providers) if everything else from_metadata_names(manifest)
    cache: dict[str, IdpReadout] = config.idp_readouts
    missing = {n for n in names if n not in cache or (everything and not cache[n].oidc_read)}
    if missing:
        signers = {
            str(path[1]): info.pem
            for path, info in loaded.certificates.items()
            if path[0] == "identity_providers" and path[3:] == ("metadata_signing_certificate",)
        }
        cache.update(
            await read_identity_providers(
                manifest,
                names=missing,
                oidc=everything,
                transport=config.idp_transport,
                limits=config.idp_limits,
                signers=signers,
            )
        )
    return {n: cache[n] for n in sorted(names)}


def binding_of(loaded: LoadedManifest, config: RunConfig) -> dict[tuple[str, str, str], str]:
    """(provider instance, scope, key) -> the identity provider each resource signs in with."""
    manifest = loaded.manifest
    assert manifest is not None

    def base_dir(path: tuple[str | int, ...]) -> str:
        return str(loaded.base_dir(path))

    out: dict[tuple[str, str, str], str] = {}
    classes: dict[str, type[Driver]] = {}  # a plugin's driver is looked up once per run
    for tname, tenant in manifest.tenants.items():
        for conn in tenant.connections:
            idp = conn.idp_name(tenant)
            if idp is None:
                continue
            kind = manifest.providers[conn.provider].type
            cls = classes.get(kind) or classes.setdefault(
                kind, config.driver_classes.get(kind) or driver_class(kind)
            )
            for desired in cls.expand(ExpandContext(manifest, tname, tenant, conn, base_dir)):
                out[(desired.provider, desired.scope, desired.key)] = idp
    return out


def note_picks(
    plan: Plan, binding: Mapping[tuple[str, str, str], str], picks: Mapping[str, Pick]
) -> Plan:
    """The plan with each changing resource bound to a `from_metadata` identity provider
    noting which certificate was picked and why."""
    if not picks:
        return plan
    changes = []
    for change in plan.changes:
        idp = binding.get((change.provider, change.scope, change.key))
        pick = picks.get(idp or "")
        if pick is not None and any("certificate" in c.path for c in change.changes):
            change = change.model_copy(update={"notes": (*change.notes, f"{idp}: {pick.reason}")})
        changes.append(change)
    return plan.model_copy(update={"changes": tuple(changes)})
