"""The sandbox's identity providers: seeded from the manifest on first use (the manifest's own
certificates, or new real ones), kept in `.ssoform/sandbox/identity-providers/idps.json`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ssoform.emulators.idp import IdpStore, make_certificate
from ssoform.errors import SsoformError
from ssoform.files import write_private
from ssoform.manifest.certificates import CertInfo
from ssoform.manifest.models import Manifest

__all__ = ["idp_store_path", "load_idp_store", "save_idp_store", "seed_idps"]


def idp_store_path(directory: Path) -> Path:
    return directory / "identity-providers" / "idps.json"


def load_idp_store(directory: Path) -> IdpStore | None:
    path = idp_store_path(directory)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SsoformError(
            f"{path}: the sandbox data is unreadable ({exc}); run `ssoform sandbox reset`"
        ) from None
    store = IdpStore()
    store.load_json(data if isinstance(data, dict) else {})
    return store


def save_idp_store(directory: Path, store: IdpStore) -> None:
    path = idp_store_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps(store.to_json(), indent=1, sort_keys=True))


def seed_idps(
    store: IdpStore,
    manifest: Manifest,
    certificates: Mapping[tuple[str | int, ...], CertInfo],
    now: dt.datetime,
) -> None:
    """Every identity provider of the manifest, as it describes itself: in sync to begin with."""
    for name, idp in manifest.identity_providers.items():
        saml = idp.saml
        if saml is not None and saml.metadata_url is not None and name not in store.idps:
            host = urlsplit(saml.metadata_url).hostname or name
            base = ("identity_providers", name, "saml")
            pems = [
                info.pem
                for path, info in sorted(
                    certificates.items(), key=lambda i: (i[0][3:4] != ("certificate",), str(i[0]))
                )
                if path[:3] == base and path[3] in ("certificate", "additional_certificates")
            ]
            if not pems:
                start = now - dt.timedelta(days=30)
                pems = [make_certificate(host, start, start + dt.timedelta(days=730))]
            store.add_saml(
                name,
                saml.metadata_url,
                saml.entity_id or saml.metadata_url,
                saml.sso_url or f"https://{host}/sso/saml",
                pems,
            )
        if idp.oidc is not None and "issuer" not in store.idps.get(name, {}):
            store.add_oidc(name, idp.oidc.issuer)
