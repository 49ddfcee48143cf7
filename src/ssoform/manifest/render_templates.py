"""Rendering the templates in a merged manifest document, before it is validated."""

from __future__ import annotations

from typing import Any

from ssoform.manifest.diagnostics import PathElem
from ssoform.manifest.sources import MergedDocument, Problem
from ssoform.manifest.template import TemplateProblem, TemplateRenderer, is_template

__all__ = ["render_document"]


def render_document(doc: MergedDocument, cli_vars: dict[str, Any]) -> None:
    """Render every template string in `doc.data` in place; failures become problems."""
    data = doc.data
    base_vars = {**_mapping(data.get("vars")), **cli_vars}
    renderer = TemplateRenderer()
    for section in ("providers", "identity_providers"):
        items = data.get(section)
        if isinstance(items, dict):
            for name, item in items.items():
                items[name] = _render(item, (section, name), {"vars": base_vars}, renderer, doc)
    tenants = data.get("tenants")
    if not isinstance(tenants, dict):
        return
    for name, tenant in tenants.items():
        if not isinstance(tenant, dict):
            continue
        tenant_vars = {**base_vars, **_mapping(tenant.get("vars"))}
        context: dict[str, Any] = {"vars": tenant_vars, "tenant": {"name": name, "domains": []}}
        domains = _render(
            tenant.get("domains"), ("tenants", name, "domains"), context, renderer, doc
        )
        context["tenant"]["domains"] = domains if isinstance(domains, list) else []
        for key, value in tenant.items():
            if key not in ("vars", "domains"):
                tenant[key] = _render(value, ("tenants", name, key), context, renderer, doc)
        if domains is not None:
            tenant["domains"] = domains


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_Trail = tuple[Any, PathElem] | tuple[()]
"""A path as a linked list, (parent trail, key): O(1) to extend, flattened only on error."""


def _flatten(trail: _Trail) -> tuple[PathElem, ...]:
    out: list[PathElem] = []
    while trail:
        trail, key = trail
        out.append(key)
    return tuple(reversed(out))


def _render(
    value: Any,
    path: tuple[PathElem, ...],
    context: dict[str, Any],
    renderer: TemplateRenderer,
    doc: MergedDocument,
) -> Any:
    """`value` with every template string in it rendered (containers are changed in place:
    the document is ours, fresh from yaml_rs)."""

    def walk(item: Any, trail: _Trail) -> Any:
        if isinstance(item, str):
            if not is_template(item):
                return item
            try:
                return renderer.render(item, context)
            except TemplateProblem as problem:
                where = path + _flatten(trail)
                doc.problems.append(Problem(doc.file_of(where), where, str(problem)))
                return item
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(child, str | dict | list):
                    item[key] = walk(child, (trail, key))
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str | dict | list):
                    item[index] = walk(child, (trail, index))
        return item

    return walk(value, ())
