"""`ssoform sandbox`: look after the embedded emulators' data in `.ssoform/sandbox/`."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import click

from ssoform.emulators.cloudflare import CloudflareStore
from ssoform.errors import SsoformError
from ssoform.files import write_private
from ssoform.manifest.certificates import parse_pem
from ssoform.sandbox.idp import load_idp_store, save_idp_store
from ssoform.sandbox.session import DEFAULT_SANDBOX_DIR

__all__ = ["sandbox_group"]


@click.group("sandbox")
def sandbox_group() -> None:
    """Control the sandbox (ssoform's embedded emulators)."""


@sandbox_group.command("verify")
@click.argument("domain")
@click.option(
    "--status",
    type=click.Choice(["verified", "failed", "pending"]),
    default="verified",
    show_default=True,
)
def sandbox_verify(domain: str, status: str) -> int:
    """Play the DNS side: mark a Cloudflare connector's domain verified (or failed)."""
    changed = 0
    for path in sorted(DEFAULT_SANDBOX_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "connectors" not in data:
            continue
        store = CloudflareStore.from_json(data)
        for connector in list(store.connectors.values()):
            if connector.email_domain == domain.lower():
                store.set_verification(connector.account_id, connector.email_domain, status)
                changed += 1
        write_private(path, json.dumps(store.to_json(), indent=1, sort_keys=True))
    if not changed:
        raise SsoformError(f"no sandbox Cloudflare connector for {domain}")
    click.echo(f"{domain}: verification {status} ({changed} connector(s))")
    return 0


@sandbox_group.command("rotate-certificate")
@click.argument("idp")
@click.option(
    "--retire-old",
    is_flag=True,
    help="Drop the older signing certificates: only the newest stays published.",
)
def sandbox_rotate_certificate(idp: str, retire_old: bool) -> int:
    """Play the IdP: publish a new SAML signing certificate beside the old one."""
    store = load_idp_store(DEFAULT_SANDBOX_DIR)
    if store is None or idp not in store.idps or "metadata_url" not in store.idps[idp]:
        idps = store.idps if store is not None else {}
        known = ", ".join(sorted(n for n, e in idps.items() if "metadata_url" in e))
        raise SsoformError(
            f"no sandbox identity provider {idp!r} with SAML metadata "
            f"(known: {known or 'none; run a `--sandbox` plan or drift first'})"
        )
    if retire_old:
        dropped = store.retire_old(idp)
        click.echo(f"{idp}: retired {dropped} older signing certificate(s)")
    else:
        info = parse_pem(store.rotate(idp, dt.datetime.now(dt.UTC)))
        count = len(store.idps[idp]["certificates"])
        click.echo(
            f"{idp}: published signing certificate sha256:{info.sha256[:16]} ({info.subject}, "
            f"expires {info.not_after:%Y-%m-%d}) beside the old one ({count} published)"
        )
    save_idp_store(DEFAULT_SANDBOX_DIR, store)
    return 0


@sandbox_group.command("reset")
def sandbox_reset() -> int:
    """Forget the sandbox's data and state; the next run seeds it again."""
    if DEFAULT_SANDBOX_DIR.exists():
        shutil.rmtree(DEFAULT_SANDBOX_DIR)
    click.echo(f"removed {DEFAULT_SANDBOX_DIR}")
    return 0
