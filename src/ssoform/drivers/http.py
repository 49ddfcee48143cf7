"""Calling a provider's JSON API from a driver: one place that maps failures to `DriverError`.

Each failure names the provider instance and the call, keeps the provider's own error code and
text (scrubbed by `ssoform.scrub`: every secret this run resolved or the driver sent, in every
encoding, control characters and escapes out, capped), and never leaks a traceback. Ids placed in
paths are checked against their format and percent-encoded (`ssoform.transport.paths`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from ssoform.drivers.base import Driver, DriverContext
from ssoform.errors import DriverError
from ssoform.scrub import scrub
from ssoform.transport import (
    IDEMPOTENT,
    DeadlineExceeded,
    InvalidId,
    TransportRefusal,
    WaitTooLong,
    path_with,
    untrusted_certificate,
)

__all__ = ["ApiCaller", "HttpDriver", "scrub"]  # scrub: from ssoform.scrub, for drivers


class ApiCaller:
    """A provider's HTTP API, bound to an httpx client and a base URL."""

    id_formats: ClassVar[Mapping[str, re.Pattern[str]]] = {}
    """The format of each id a driver places in a path (`ids=` of `call`), by name."""

    def __init__(
        self,
        provider: str,
        client: httpx.AsyncClient,
        base_url: str,
        credentials: Sequence[str] = (),
    ) -> None:
        self.provider = provider
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.credentials = (*credentials, *_header_secrets(client.headers))
        """Scrubbed from every error message (a provider may echo the request's headers)."""

    def error_detail(self, body: Any) -> tuple[str | None, str]:
        """(code, message) from a provider's error body; drivers override for their shape."""
        if isinstance(body, Mapping):
            for key in ("message", "msg", "error", "errorMessage", "errorDescription"):
                if isinstance(body.get(key), str):
                    return None, str(body[key])
        return None, "request failed"

    def failed(self, body: Any) -> bool:
        """Whether a successful status carries a failure (Cloudflare's `success: false`)."""
        return False

    async def call(
        self,
        method: str,
        path: str,
        *,
        call: str,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = False,
        secrets: Sequence[str] = (),
        allow: Sequence[int] = (),
        ids: Mapping[str, object] | None = None,
    ) -> tuple[int, Any]:
        """Send one request; returns (status, parsed JSON or None). Raises `DriverError`.

        With `ids`, `path` is a template whose `{name}`s are filled with them, each checked
        against `id_formats` and percent-encoded; a malformed id sends nothing."""
        secrets = (*secrets, *self.credentials)
        if ids is not None:
            try:
                path = path_with(path, ids, self.id_formats)
            except InvalidId as exc:
                raise DriverError(self.provider, call, f"{exc}; nothing was sent") from None
        url = f"{self.base_url}{path}"
        try:
            response = await self.client.request(
                method,
                url,
                json=json_body,
                params=params,
                extensions={IDEMPOTENT: True} if idempotent else None,
            )
        except WaitTooLong as exc:
            raise DriverError(self.provider, call, exc.reason, status=exc.status) from None
        except DeadlineExceeded as exc:
            raise DriverError(
                self.provider, call, exc.reason, retryable=True, ambiguous=method != "GET"
            ) from None
        except TransportRefusal as exc:
            raise DriverError(self.provider, call, exc.reason) from None
        except httpx.TimeoutException:
            raise DriverError(
                self.provider, call, "timed out", retryable=True, ambiguous=method != "GET"
            ) from None
        except httpx.DecodingError as exc:
            raise DriverError(self.provider, call, scrub(str(exc), secrets)) from None
        except httpx.TransportError as exc:
            reason = untrusted_certificate(exc)
            if reason is not None:
                host = httpx.URL(url).host
                message = f"TLS certificate of {host} not trusted ({reason}); nothing was sent"
                raise DriverError(self.provider, call, message) from None
            message = f"connection failed ({type(exc).__name__})"
            raise DriverError(
                self.provider, call, message, retryable=True, ambiguous=method != "GET"
            ) from None
        status = response.status_code
        if 300 <= status < 400:
            where = scrub(response.headers.get("location", "?"), secrets, limit=120)
            raise DriverError(
                self.provider, call, f"refused to follow a redirect to {where}", status=status
            )
        body = _parse(response)
        if (status >= 400 and status not in allow) or (body is not _NOT_JSON and self.failed(body)):
            code, message = self.error_detail(body)
            if body is _NOT_JSON:
                message = _describe_non_json(response)
            raise DriverError(
                self.provider,
                call,
                scrub(message, secrets),
                status=status,
                code=scrub(code, secrets, limit=80) if code is not None else None,
                retryable=status == 429 or status >= 500,
                ambiguous=status >= 500 and method != "GET",
            )
        if body is _NOT_JSON:
            if status == 204 or not response.content:
                return status, None
            message = scrub(_describe_non_json(response), secrets)
            raise DriverError(self.provider, call, message, status=status)
        return status, body


_NOT_JSON: Any = object()


def _header_secrets(headers: httpx.Headers) -> list[str]:
    """The credential values in the client's authorization header, whole and by parts."""
    value = headers.get("authorization", "")
    parts = [value, *value.split(" ", 1)[1:]]
    return [*parts, *parts[-1].split(":")] if value else []


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return _NOT_JSON
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _describe_non_json(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "unknown content type").split(";")[0]
    if "html" in kind:
        return "answered with an HTML page instead of JSON"
    return f"answered with malformed JSON ({kind}, {len(response.content)} bytes)"


class HttpDriver(Driver):
    """A driver over a JSON API with one bearer credential (the common case)."""

    api_class: ClassVar[type[ApiCaller]] = ApiCaller
    credential: ClassVar[str]
    """The provider-instance field holding the credential (a secret reference)."""

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self.api = self.api_class(
            ctx.name, ctx.client, ctx.base_url, tuple(ctx.credentials.values())
        )

    @classmethod
    def credential_fields(cls) -> tuple[str, ...]:
        return (cls.credential,)

    @classmethod
    def auth_headers(cls, config: Any, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials[cls.credential]}"}
