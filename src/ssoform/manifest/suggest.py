"""Did-you-mean for an unknown key: suggestions come from the keys valid at that place only.

The place is found by walking the manifest's pydantic models along the error's location
(mappings by name, lists by index, a connection's or provider's kind by its tag), so `provider`
under a tenant suggests `providers` only if a tenant could hold it, never a word from elsewhere.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag

from ssoform.manifest.models import Manifest

__all__ = ["keys_at", "suggestion"]


def suggestion(loc: Sequence[Any], unknown: str) -> str | None:
    """The closest valid key at the place of `loc` (the unknown key's location), or None."""
    close = difflib.get_close_matches(unknown, keys_at(loc), n=1, cutoff=0.75)
    return close[0] if close else None


def keys_at(loc: Sequence[Any]) -> list[str]:
    """The keys a mapping at the parent of `loc` may hold (empty when not a model)."""
    node: Any = Manifest
    for elem in loc[:-1]:
        node = _step(node, elem)
        if node is None:
            return []
    for model in _models(node):
        return sorted(f.alias or name for name, f in model.model_fields.items())
    return []


def _unwrap(node: Any) -> Any:
    while get_origin(node) is Annotated:
        node = get_args(node)[0]
    return node


def _members(node: Any) -> list[Any]:
    """The alternatives of a union (each possibly Annotated), or [node]."""
    node = _unwrap(node)
    if get_origin(node) in (Union, types.UnionType):
        return [m for m in get_args(node) if m is not type(None)]
    return [node]


def _models(node: Any) -> list[type[BaseModel]]:
    found = []
    for member in _members(node):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            found.append(member)
    return found


def _tag_of(member: Any) -> str | None:
    if get_origin(member) is Annotated:
        for meta in get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
    model = _unwrap(member)
    if isinstance(model, type) and issubclass(model, BaseModel) and "type" in model.model_fields:
        annotation = model.model_fields["type"].annotation
        if get_origin(annotation) is Literal:
            return str(get_args(annotation)[0])
    return None


def _step(node: Any, elem: Any) -> Any:
    members = _members(node)
    if isinstance(elem, str):
        for member in members:  # a tagged union: the location names the alternative
            if len(members) > 1 and _tag_of(member) == elem:
                return member
    for member in members:
        member = _unwrap(member)
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(elem, str) and elem in member.model_fields:
                return member.model_fields[elem].annotation
        elif origin is dict and isinstance(elem, str):
            return get_args(member)[1]
        elif origin is list and isinstance(elem, int):
            return get_args(member)[0]
    return None
