"""`{{ ... }}` in manifest strings, rendered by Jinja2's sandbox with StrictUndefined.

Templates see `vars` (manifest vars, then `--var-file`, then `--var`, then the tenant's own vars)
and, inside a tenant, `tenant.name` and `tenant.domains`. They cannot reach files, the
environment or Python internals: the sandbox refuses attribute walks to `__class__` and friends.

They cannot run for long or make huge values either. A manifest template interpolates values,
so only expressions and `{% if %}` are allowed: no loops, macros, `set` or `with`, which are what
let a short template do unbounded work. Filters and methods come from an allow-list, every
argument and result is bounded in size, powers and repetitions are checked before they are
computed, and `range` is small. A template that breaks a rule is a located error, not a hang.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, nodes
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["MAX_RENDERED", "TemplateProblem", "TemplateRenderer", "is_template"]

MAX_RENDERED = 64 * 1024
_MAX_RANGE = 1_000
_MAX_BITS = 4_096
"""Integers in templates stay below 2**4096."""

_ALLOWED_STATEMENTS = (nodes.Output, nodes.If, nodes.TemplateData)
_ALLOWED_FILTERS = frozenset(
    {
        "abs", "capitalize", "d", "default", "first", "float", "int", "join", "last",
        "length", "count", "list", "lower", "max", "min", "replace", "reverse", "round",
        "sort", "string", "title", "trim", "truncate", "unique", "upper", "urlencode",
        "tojson", "items", "dictsort", "map", "select", "reject", "selectattr", "rejectattr",
    }
)  # fmt: skip
_ALLOWED_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        {
            "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "startswith",
            "endswith", "split", "rsplit", "replace", "removeprefix", "removesuffix", "find",
            "count", "isdigit", "isalpha", "isalnum",
        }
    ),
    dict: frozenset({"get", "items", "keys", "values"}),
    list: frozenset({"index", "count"}),
}  # fmt: skip


class TemplateProblem(Exception):
    """A template failed to render; the message says why."""


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_RENDERED:
        raise TemplateProblem("template made a value larger than 64 KiB")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_BITS:
        raise TemplateProblem("template made an integer that is too large")
    return value


def _check_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_RENDERED:
            raise TemplateProblem(f"argument {arg} is too large")
        _check_size(arg)


def _bounded(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments and result are bounded in size."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_args((*args, *kwargs.values()))
        return _check_size(func(*args, **kwargs))

    for attr in ("jinja_pass_arg",):  # keep Jinja's context/environment passing
        if hasattr(func, attr):
            setattr(wrapper, attr, getattr(func, attr))
    return wrapper


def _join(value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = [str(v if attribute is None else v[attribute]) for v in value]
    size = sum(map(len, items)) + len(d) * max(len(items) - 1, 0)
    if size > MAX_RENDERED:
        raise TemplateProblem("template made a value larger than 64 KiB")
    return str(d).join(items)


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * max(len(new) - len(old), 0) > MAX_RENDERED:
        raise TemplateProblem("template made a value larger than 64 KiB")
    return text.replace(old, new, -1 if count is None else count)


def _range(*args: int) -> list[int]:
    for arg in args:
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise TemplateProblem("range() takes integers")
    result = range(*args)
    if len(result) > _MAX_RANGE:
        raise TemplateProblem(f"range() is limited to {_MAX_RANGE} items")
    return list(result)


class _BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.globals = {"range": _range}
        filters = {name: f for name, f in self.filters.items() if name in _ALLOWED_FILTERS}
        filters["join"] = _join
        filters["replace"] = _replace
        self.filters = {name: _bounded(f) for name, f in filters.items()}

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if not isinstance(right, int | float) or abs(right) > 256:
                raise TemplateProblem(f"exponent {right} is too large")
            if isinstance(left, int) and left.bit_length() * abs(right) > _MAX_BITS:
                raise TemplateProblem("template made an integer that is too large")
            return _check_size(operator.pow(left, right))
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_RENDERED:
                    raise TemplateProblem("repetition would make a value that is too large")
            return _check_size(operator.mul(left, right))
        if operator_name == "%":
            if isinstance(left, str):
                raise TemplateProblem("%-formatting is not allowed in templates; use ~ to join")
            return operator.mod(left, right)
        if operator_name == "+":
            return _check_size(operator.add(left, right))
        return super().call_binop(context, operator_name, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(__obj, Undefined):
            return __obj()  # raises "'name' is undefined"
        if __obj is _range:
            return _range(*args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        allowed = _ALLOWED_METHODS.get(type(owner), frozenset())
        if owner is None or name not in allowed:
            raise TemplateProblem(f"calling {name or type(__obj).__name__} is not allowed")
        _check_args((*args, *kwargs.values()))
        if name == "replace" and isinstance(owner, str) and len(args) >= 2:
            return _replace(owner, *args)
        return _check_size(__obj(*args, **kwargs))


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


_NAMES = frozenset({"vars", "tenant", "range"})


def _check_statements(tree: nodes.Template) -> None:
    stack: list[nodes.Node] = list(tree.body)
    while stack:
        node = stack.pop()
        if not isinstance(node, _ALLOWED_STATEMENTS):
            kind = type(node).__name__.lower()
            raise TemplateProblem(
                f"'{kind}' is not allowed in manifest templates (only expressions and if)"
            )
        if isinstance(node, nodes.If):
            stack.extend((*node.body, *node.elif_, *node.else_))
    for name in tree.find_all(nodes.Name):
        if name.name not in _NAMES:
            raise TemplateProblem(
                f"unknown name {name.name!r}: templates see vars, tenant and range()"
            )


class TemplateRenderer:
    """Renders template strings; compiled templates are cached by their source text."""

    def __init__(self) -> None:
        self._env = _BoundedSandbox()
        self._cache: dict[str, Any] = {}

    def render(self, source: str, context: dict[str, Any]) -> str:
        try:
            template = self._cache.get(source)
            if template is None:
                tree = self._env.parse(source)
                _check_statements(tree)
                template = self._env.from_string(tree)
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
