"""An emulator's Starlette app: its routes and the control routes behind the fault and gate
middleware, the provider's refusals as its error answers, and the app's state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ssoform.emulators.base import Emulator, FaultMiddleware
from ssoform.emulators.control import control_routes
from ssoform.emulators.gate import Door, GateMiddleware

__all__ = ["emulator_app"]

E = TypeVar("E", bound=Exception)


def emulator_app(
    emulator: Emulator,
    door: Door,
    routes: Sequence[BaseRoute],
    *,
    refusal: type[E],
    answer: Callable[[E], Response],
    answer_http: Callable[[HTTPException], Response],
    extra_control: Sequence[BaseRoute] = (),
    **state: Any,
) -> Starlette:
    """The app serving `routes` and the control routes (then `extra_control`): each request
    passes the fault middleware, then `door`; a raised `refusal` is answered by `answer`, an
    unknown route or method by `answer_http`. `state` goes on `app.state` with the emulator."""

    async def on_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, refusal)
        return answer(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return answer_http(exc)

    app = Starlette(
        routes=[*routes, *control_routes(), *extra_control],
        middleware=[
            Middleware(FaultMiddleware, emulator=emulator),
            Middleware(GateMiddleware, emulator=emulator, door=door),
        ],
        exception_handlers={refusal: on_refusal, HTTPException: on_http},
    )
    app.state.emulator = emulator
    for name, value in state.items():
        setattr(app.state, name, value)
    return app
