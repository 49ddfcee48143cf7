"""Ids placed in URL paths: checked against their format, percent-encoded, never a new path."""

from __future__ import annotations

import re

import pytest

from ssoform.transport import InvalidId, path_with

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "hostile",
    [
        "../../../../../admin/delete_everything?x=",
        "..",
        ".",
        "",
        "a/b",
        "a?b=c",
        "a#frag",
        "a%2Fb",
        "a b",
        "a\nb",
        "x" * 201,
        7,
        None,
    ],
)
def test_a_hostile_id_is_refused(hostile: object) -> None:
    with pytest.raises(InvalidId, match="refused account id"):
        path_with("/accounts/{account}/x", {"account": hostile}, {})


def test_an_id_must_match_its_declared_format() -> None:
    good = "023e105f4ecef8ad9ca31a8372d0c353"
    assert path_with("/a/{account}", {"account": good}, {"account": HEX32}) == f"/a/{good}"
    with pytest.raises(InvalidId):
        path_with("/a/{account}", {"account": "acct_1"}, {"account": HEX32})


def test_an_id_is_percent_encoded_as_one_segment() -> None:
    assert path_with("/u/{user}/x", {"user": "me@acme:1~"}, {}) == "/u/me%40acme%3A1~/x"


def test_the_template_and_the_ids_must_agree() -> None:
    with pytest.raises(ValueError, match="needs ids"):
        path_with("/a/{account}/{connector}", {"account": "x"}, {})
