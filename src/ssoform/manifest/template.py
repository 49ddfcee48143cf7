"""`{{ ... }}` in manifest strings, rendered by Jinja2's sandbox with StrictUndefined.

Templates see `vars` (manifest vars, then `--var-file`, then `--var`, then the tenant's own vars)
and, inside a tenant, `tenant.name` and `tenant.domains`. They cannot reach files, the
environment or Python internals: the sandbox refuses attribute walks to `__class__` and friends,
and powers and repetitions that would make huge values are refused too.
"""

from __future__ import annotations

import operator
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["MAX_RENDERED", "TemplateProblem", "TemplateRenderer", "is_template"]

MAX_RENDERED = 64 * 1024
_MAX_REPEAT = 64 * 1024
_MAX_EXPONENT = 256


class TemplateProblem(Exception):
    """A template failed to render; the message says why."""


class _BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                raise TemplateProblem(f"exponent {right} is too large")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > _MAX_REPEAT:
                    raise TemplateProblem("repetition would make a value that is too large")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


class TemplateRenderer:
    """Renders template strings; compiled templates are cached by their source text."""

    def __init__(self) -> None:
        self._env = _BoundedSandbox(undefined=StrictUndefined, autoescape=False)
        self._cache: dict[str, Any] = {}

    def render(self, source: str, context: dict[str, Any]) -> str:
        try:
            template = self._cache.get(source)
            if template is None:
                template = self._env.from_string(source)
                self._cache[source] = template
            result = template.render(context)
        except TemplateProblem:
            raise
        except TemplateError as exc:
            raise TemplateProblem(f"template error: {exc.message or type(exc).__name__}") from None
        except RecursionError:
            raise TemplateProblem("template error: recursion too deep") from None
        except Exception as exc:  # arithmetic and type errors raised from inside a template
            raise TemplateProblem(f"template error: {type(exc).__name__}: {exc}") from None
        if len(result) > MAX_RENDERED:
            raise TemplateProblem("template rendered more than 64 KiB")
        return str(result)
