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


def _render(
    value: Any,
    path: tuple[PathElem, ...],
    context: dict[str, Any],
    renderer: TemplateRenderer,
    doc: MergedDocument,
) -> Any:
    if isinstance(value, str):
        if not is_template(value):
            return value
        try:
            return renderer.render(value, context)
        except TemplateProblem as problem:
            doc.problems.append(Problem(doc.file_of(path), path, str(problem)))
            return value
    if isinstance(value, dict):
        return {k: _render(v, (*path, k), context, renderer, doc) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, (*path, i), context, renderer, doc) for i, v in enumerate(value)]
    return value
