"""Sixth's emulator: a Starlette app holding one SSO connection per workspace, in memory.

`PUT /api/workspaces/{id}/sso` stores the connection (the client secret only as a digest) and
answers it; `GET` answers it or 404; `DELETE` removes it. Every call needs `X-Api-Key`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ssoform.emulators.base import Emulator, FaultMiddleware
from ssoform.emulators.control import control_routes


class SixthStore:
    """The workspaces' SSO connections, by workspace id."""

    def __init__(self) -> None:
        self.connections: dict[str, dict[str, Any]] = {}
        self.next_id = 1

    def put(self, workspace: str, body: dict[str, Any]) -> dict[str, Any]:
        found = self.connections.get(workspace)
        if found is None:
            found = {"id": f"sso_{self.next_id}"}
            self.next_id += 1
        secret = str(body.pop("client_secret", ""))
        found = {
            **found,
            **body,
            "client_secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
        }
        self.connections[workspace] = found
        return found

    def to_json(self) -> dict[str, Any]:
        return {"connections": self.connections, "next_id": self.next_id}

    def load_json(self, data: dict[str, Any]) -> None:
        self.connections = dict(data.get("connections", {}))
        self.next_id = int(data.get("next_id", 1))


def _public(connection: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in connection.items() if k != "client_secret_sha256"}


def create_app(
    *,
    api_key: str,
    store: SixthStore | None = None,
    rate_limit: int = 0,
    rate_window: float = 0.0,
) -> Starlette:
    """The emulator over `store` (a new one if None), accepting `api_key` only."""
    held = store or SixthStore()

    def authorised(request: Request) -> bool:
        return request.headers.get("x-api-key") == api_key

    async def connection(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"message": "invalid API key"}, status_code=401)
        workspace = request.path_params["workspace"]
        if request.method == "PUT":
            body = await request.json()
            if not isinstance(body, dict):
                return JSONResponse({"message": "body must be an object"}, status_code=400)
            return JSONResponse(_public(held.put(workspace, body)))
        found = held.connections.get(workspace)
        if found is None:
            return JSONResponse({"message": "no SSO connection"}, status_code=404)
        if request.method == "DELETE":
            del held.connections[workspace]
            return Response(status_code=204)
        return JSONResponse(_public(found))

    emulator = Emulator("sixth")
    routes = [
        Mount(
            "/api",
            routes=[
                Route(
                    "/workspaces/{workspace}/sso",
                    connection,
                    methods=["GET", "PUT", "DELETE"],
                )
            ],
        ),
        *control_routes(),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, emulator=emulator)])
    app.state.emulator = emulator
    app.state.store = held
    return app
