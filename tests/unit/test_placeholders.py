"""One `${NAME}` expansion, two rules: the task definition's (with `$${NAME}` escapes)
and the smoke headers' (without), each as its caller has always had it."""

from __future__ import annotations

from neuraltrade_deploy.core.placeholders import expand, names

VALUES = {"TOKEN": "s3cret", "EMPTY": ""}


def lookup(name: str) -> str | None:
    return VALUES.get(name)


def test_fills_known_names_and_reports_the_rest_left_as_written() -> None:
    text, missing = expand("Bearer ${TOKEN} ${NOPE} $HOME ${HOME:-x}", lookup, escapes=True)
    assert text == "Bearer s3cret ${NOPE} $HOME ${HOME:-x}"
    assert missing == ["NOPE"]


def test_escapes_make_a_literal_placeholder_only_when_asked() -> None:
    assert expand("$${TOKEN}", lookup, escapes=True) == ("${TOKEN}", [])
    assert expand("$${TOKEN}", lookup, escapes=False) == ("$s3cret", [])


def test_names_lists_every_placeholder_escaped_or_not() -> None:
    assert names("${A} $${B} ${c_1} $D") == ["A", "B", "c_1"]
