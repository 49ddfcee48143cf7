"""The plan as people read it: the terminal text and the Markdown a reviewer sees on a pull request.

Both come from the plan's JSON data (`Plan.data()`). The Markdown shows every change, every
field change, every note and warning and every unmanaged object; changes that need a careful
look (deletes, replacements, SSO being enabled, anything blocked or manual) come first, and long
entries fold into `<details>`. A plan too long for one GitHub comment is split into several
parts, never cut: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ssoform.report.render_jinja import VALUE_CHARS, markdown_text, render, shown_value
from ssoform.scrub import visible

__all__ = [
    "COMMENT_LIMIT",
    "MAX_PARTS",
    "VALUE_CHARS",
    "attention",
    "counts",
    "markdown_header",
    "render_plan_markdown",
    "render_plan_text",
    "resource_units",
    "shown_groups",
]

COMMENT_LIMIT = 60_000
"""GitHub's limit for a comment is 65,536 characters; each part keeps a margin under it."""

FOLD_AFTER = 6
"""An entry with more field lines than this folds them into `<details>`."""

MAX_PARTS = 10
"""More parts than this and the changes outside the careful-look group drop their values."""

_CAREFUL = "Needs a careful look (deletes, replacements, enabling SSO, blocked, manual)"
_CHANGING = ("create", "adopt", "update", "replace", "delete", "forget", "move")


def counts(data: Mapping[str, Any]) -> dict[str, int]:
    """The counts both renderers print, agreeing with the lines they print.

    Actions are counted as the plan counts them; `blocked` and `manual` count every change that
    shows such a line (a create whose enabling waits on DNS is both "to create" and blocked)."""
    out = dict.fromkeys(_CHANGING, 0) | dict(data["summary"])
    changes = data["resource_changes"]
    out["blocked"] = sum(1 for rc in changes if rc["blocked"] or rc["action"] == "blocked")
    out["manual"] = sum(1 for rc in changes if rc["manual"] or rc["action"] == "manual")
    out["changing"] = sum(out.get(a, 0) for a in _CHANGING)
    return out


def attention(rc: Mapping[str, Any]) -> str | None:
    """Why a change needs a careful look first, or None."""
    action = rc["action"]
    if action in ("delete", "replace"):
        return str(action)
    if action == "blocked" or rc["blocked"]:
        return "blocked"
    if action == "manual" or rc["manual"]:
        return "manual"
    for f in rc["change"]["fields"]:
        if f["path"] == "enabled" and f["after"] is True and f["before"] is not True:
            return "enables SSO"
    return None


def _shown(rc: Mapping[str, Any]) -> bool:
    unverifiable = any(f["write_only"] == "unverifiable" for f in rc["change"]["fields"])
    return rc["action"] != "no-op" or bool(rc["notes"]) or unverifiable


def _code(value: Any) -> str:
    """A Markdown code span holding `value` visibly (no backticks, line breaks or control
    characters inside, no registered secret, cut when very long)."""
    return _span(visible(value))


def _span(shown: str) -> str:
    """A Markdown code span around text already made visible."""
    text = shown.replace("`", "'")
    return f"`{text}`"


_INERT = str.maketrans({"[": "\\[", "]": "\\]", "*": "\\*", "_": "\\_", "@": "@\u2060"})


def _prose(value: Any) -> str:
    """Text from a plan (a driver's note, a blocked reason) as inert Markdown: no HTML, no
    links, and no `@name` that GitHub would turn into a mention (a word joiner follows `@`)."""
    return markdown_text(value).translate(_INERT)


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    return _span(shown_value(value))  # shown_value has made it visible


def _field_line(f: Mapping[str, Any]) -> str:
    path = _code(f["path"])
    if f["write_only"]:
        tail = f" (write-only, {f['write_only']})"
        if f["sensitive"]:
            return f"- {path}{tail}: (sensitive)"
        if f["write_only"] == "unchanged":
            return f"- {path}{tail}"
        return f"- {path}{tail} → {_value(f['after'])}"
    if f["sensitive"]:
        return f"- {path}: (sensitive) → (sensitive)"
    return f"- {path}: {_value(f['before'])} → {_value(f['after'])}"


def _entry(rc: Mapping[str, Any], fields: Sequence[Mapping[str, Any]], more: str = "") -> str:
    """One change as Markdown: its headline, its notes (never folded), then its field lines."""
    why = attention(rc)
    head = f"**{rc['action']}** {_code(rc['address'])}"
    if rc.get("previous_address"):
        head += f" (moved from {_code(rc['previous_address'])})"
    if rc["action_reason"]:
        head += f" ({_prose(rc['action_reason'])})"
    if rc["experimental"]:
        head += " _experimental_"
    if why and why != rc["action"]:
        head += f" ⚠ {why}"
    lines = [f"#### {head}{more}", ""]
    quoted: list[str] = []
    if rc["change"]["replace_paths"]:
        paths = ", ".join(_code(p) for p in rc["change"]["replace_paths"])
        quoted.append(f"> **replace:** {paths} cannot change in place")
    if rc["blocked"]:
        quoted.append(f"> **blocked:** {_prose(rc['blocked'])}")
    if rc["manual"]:
        quoted.append(f"> **manual:** {_prose(rc['manual'])}")
    quoted += [f"> **note:** {_prose(note)}" for note in rc["notes"]]
    if quoted:
        lines += ["\n>\n".join(quoted), ""]
    field_lines = [_field_line(f) for f in fields]
    if len(field_lines) > FOLD_AFTER:
        lines += [
            f"<details><summary>{len(field_lines)} field changes</summary>",
            "",
            *field_lines,
            "",
            "</details>",
            "",
        ]
    elif field_lines:
        lines += [*field_lines, ""]
    return "\n".join(lines) + "\n"


def _entries(rc: Mapping[str, Any], budget: int) -> list[str]:
    """The entry for `rc`, split over several entries when one would not fit in `budget`."""
    fields = rc["change"]["fields"]
    whole = _entry(rc, fields)
    if len(whole) <= budget or len(fields) <= 1:
        return [whole]
    half = len(fields) // 2
    first = _entries_of(rc, fields[:half], budget, " (fields, part 1)")
    second = _entries_of(rc, fields[half:], budget, " (fields, continued)")
    return first + second


def _entries_of(
    rc: Mapping[str, Any], fields: Sequence[Mapping[str, Any]], budget: int, more: str
) -> list[str]:
    text = _entry(rc, fields, more)
    if len(text) <= budget or len(fields) <= 1:
        return [text]
    half = len(fields) // 2
    return _entries_of(rc, fields[:half], budget, more) + _entries_of(
        rc, fields[half:], budget, " (fields, continued)"
    )


def _unmanaged(data: Mapping[str, Any], budget: int) -> list[str]:
    """The unmanaged objects: folded when many, cut at line ends when too many for one part."""
    items = data["unmanaged"]
    if not items:
        return []
    head = (
        f"### Unmanaged ({len(items)})\n\n"
        "Live in a managed scope, declared nowhere; ssoform never deletes them.\n\n"
    )
    listing = [
        f"- {_code(u['provider'] + '/' + u['scope'] + '/' + u['key'])} (id {_code(u['id'])})\n"
        for u in items
    ]
    if len(listing) <= 10:
        return [head + "".join(listing) + "\n"]
    folded = (
        f"{head}<details><summary>{len(listing)} unmanaged objects</summary>\n\n"
        + "".join(listing)
        + "\n</details>\n\n"
    )
    if len(folded) <= budget:
        return [folded]
    pieces = [head]
    for line in listing:
        if len(pieces[-1]) + len(line) > budget:
            pieces.append("")
        pieces[-1] += line
    pieces[-1] += "\n"
    return pieces


def render_plan_markdown(
    data: Mapping[str, Any],
    *,
    json_hint: str,
    limit: int = COMMENT_LIMIT,
    max_parts: int = MAX_PARTS,
) -> list[str]:
    """The plan as one or more Markdown parts, each at most `limit` characters.

    Nothing is dropped. When every field value would need more than `max_parts` parts, the
    changes that need a careful look stay in full and the others list their changed fields
    without values (the JSON plan, `json_hint`, holds them); every note stays."""
    first, rest, unchanged = shown_groups(data)
    header = markdown_header(data, json_hint, "{part}")
    budget = limit - len(header) - 400
    parts = _pack(header, _blocks(data, first, rest, unchanged, budget, None), limit)
    if len(parts) > max_parts:
        parts = _pack(header, _blocks(data, first, rest, unchanged, budget, json_hint), limit)
    total = len(parts)
    out = []
    for n, body in enumerate(parts, 1):
        label = "" if total == 1 else f" (part {n} of {total})"
        head = header.replace("{part}", label) if n == 1 else _continued(data, label)
        out.append(head + body)
    return out


def _blocks(
    data: Mapping[str, Any],
    first: Sequence[Mapping[str, Any]],
    rest: Sequence[Mapping[str, Any]],
    unchanged: Sequence[Mapping[str, Any]],
    budget: int,
    compact_hint: str | None,
) -> list[str]:
    """The Markdown blocks in order; with `compact_hint`, the other changes without values."""
    units = resource_units(data, (first, rest, unchanged), budget, compact_hint)
    return [block for pieces, _ in units for block in pieces]


def resource_units(
    data: Mapping[str, Any],
    groups: tuple[
        Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]
    ],
    budget: int,
    compact_hint: str | None,
) -> list[tuple[list[str], int]]:
    """The Markdown blocks grouped by what may not be cut apart: (the blocks of one change, 1),
    a group's heading (0), the unmanaged objects (their number). `groups` are the careful-look,
    other and unchanged-with-notes changes."""
    units: list[tuple[list[str], int]] = []
    for title, group, compact in (
        (_CAREFUL, groups[0], False),
        ("Other changes", groups[1], compact_hint is not None),
        ("Unchanged, with notes", groups[2], compact_hint is not None),
    ):
        if not group:
            continue
        heading = [f"### {title} ({len(group)})\n\n"]
        if compact:
            heading.append(
                "_A long plan: these changes list their fields; the values are in "
                f"{compact_hint}._\n\n"
            )
        units.append((heading, 0))
        units += [([_compact(rc)] if compact else _entries(rc, budget), 1) for rc in group]
    unmanaged = _unmanaged(data, budget)
    if unmanaged:
        units.append((unmanaged, len(data["unmanaged"])))
    return units


def shown_groups(
    data: Mapping[str, Any],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The changes the Markdown lists: those needing a careful look, the other changes, and
    the unchanged ones with notes."""
    shown = [rc for rc in data["resource_changes"] if _shown(rc)]
    first = [rc for rc in shown if attention(rc)]
    rest = [rc for rc in shown if not attention(rc) and rc["action"] != "no-op"]
    unchanged = [rc for rc in shown if not attention(rc) and rc["action"] == "no-op"]
    return first, rest, unchanged


def markdown_header(data: Mapping[str, Any], json_hint: str, part: str) -> str:
    """The Markdown plan's heading, counts, warnings and pointer to the whole plan."""
    return render(
        "plan.md.j2", {**data, "counts": counts(data), "json_hint": json_hint, "part": part}
    )


def _compact(rc: Mapping[str, Any]) -> str:
    """One change in a line (its changed fields named, not valued), then its notes."""
    paths = ", ".join(_code(f["path"]) for f in rc["change"]["fields"])
    line = f"- **{rc['action']}** {_code(rc['address'])}" + (f": {paths}" if paths else "")
    notes = "".join(f"  - **note:** {_prose(note)}\n" for note in rc["notes"])
    return line + "\n" + notes


def _pack(header: str, blocks: Sequence[str], limit: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for block in blocks:
        if current and len(header) + len(current) + len(block) > limit - 100:
            parts.append(current)
            current = ""
        current += block
    parts.append(current)
    return parts


def _continued(data: Mapping[str, Any], label: str) -> str:
    return f"## ssoform plan{label}, continued\n\n"


def render_plan_text(data: Mapping[str, Any], *, color: bool) -> str:
    """The plan for a terminal (what the template would otherwise filter per change, the
    unverifiable paths, is listed here once: it kept a 5,000-change plan in Jinja's filters)."""
    rows = [
        {
            **rc,
            "unverifiable": [
                f["path"] for f in rc["change"]["fields"] if f["write_only"] == "unverifiable"
            ],
        }
        for rc in data["resource_changes"]
    ]
    context = {**data, "resource_changes": rows, "counts": counts(data)}
    return render("plan.txt.j2", context, color=color)
