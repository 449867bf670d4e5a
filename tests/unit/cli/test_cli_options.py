"""The command's options come from declarations, never from docstrings.

Per-command options are the operations table's roles (and the accessor's
declared method arguments); the shared send options are
:data:`pandas_cio.accessor.options.SEND_OPTIONS`, which the accessor's
docstrings are made from too.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pandas as pd
import pytest

from pandas_cio.accessor.frame import CioAccessor
from pandas_cio.accessor.options import COMMON_ARGUMENTS, SEND_OPTIONS
from pandas_cio.catalogue.operation import COMMON
from pandas_cio.cli import options as cli_options
from pandas_cio.cli.parser import build_parser
from pandas_cio.errors import UnknownArgumentError
from pandas_cio.pipeline.send import SendOptions


def _helps() -> dict[str, str]:
    """Every command's --help text, by the command as typed."""
    parser = build_parser()
    texts = {}
    for command in cli_options.commands():
        leaf = parser
        for word in command.words:
            sub = next(a for a in leaf._actions if a.__class__.__name__ == "_SubParsersAction")
            leaf = sub.choices[word]  # type: ignore[attr-defined]
        texts[" ".join(command.words)] = leaf.format_help()
    return texts


def _functions() -> Iterator[object]:
    """The accessor's function of every command (the class attribute, not a bound method)."""
    for command in cli_options.commands():
        *space, name = command.method.split(".")
        owner = type(cli_options.resolve(pd.DataFrame().cio, ".".join(space))) if space else None
        yield vars(owner or CioAccessor)[name]


@pytest.fixture
def fresh_commands() -> Iterator[None]:
    """Commands are cached; build them anew in the test and after it."""
    cli_options.commands.cache_clear()
    yield
    cli_options.commands.cache_clear()


def test_rewording_a_docstring_leaves_every_help_unchanged(
    monkeypatch: pytest.MonkeyPatch, fresh_commands: None
) -> None:
    """No option's help text is read from a method's docstring."""
    before = _helps()
    for function in _functions():
        reworded = (function.__doc__ or "").replace("column", "kolumn").replace(".", "!")
        monkeypatch.setattr(function, "__doc__", f"Reworded.\n\n{reworded}")
    cli_options.commands.cache_clear()
    assert _helps() == before


def test_every_accessor_keyword_has_a_flag_or_a_reason_not_to() -> None:
    """Each keyword of each command's method is an option, a send flag, or listed with why not."""
    shared = {cli_options.flag_of(o.name) for o in cli_options.FLAGGED}
    helps = _helps()
    for command in cli_options.commands():
        function = cli_options.resolve(pd.DataFrame().cio, command.method)
        keywords = [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ][1 if command.takes_event else 0 :]
        own = {o.param for o in command.options}
        for keyword in keywords:
            assert keyword in own, f"{command.method}: {keyword}= has no option"
        text = helps[" ".join(command.words)]
        for flag in shared:
            assert flag in text, f"{command.method}: no {flag}"
    # The send options every method takes through **options.
    assert {o.name for o in SEND_OPTIONS} == set(SendOptions.__optional_keys__)
    for option in SEND_OPTIONS:
        if option.flag_help is None:
            assert cli_options.NO_FLAG[option.name], f"{option.name}: no flag and no reason"
        else:
            assert option.name not in cli_options.NO_FLAG


def test_every_sending_method_documents_every_send_option() -> None:
    """help() of each method lists the send options, from the one declaration."""
    for function in _functions():
        doc = function.__doc__ or ""  # type: ignore[attr-defined]
        assert "Other Parameters" in doc
        for option in SEND_OPTIONS:
            assert f"\n{option.name} : " in doc, option.name
        for argument in COMMON_ARGUMENTS:
            assert f"\n{argument.name} : " in doc, argument.name


def test_every_command_ends_with_the_common_roles() -> None:
    """timestamp, message_id, context, integrations: declared once, an option of every command."""
    common = [role.arg for role in COMMON]
    for command in cli_options.commands():
        assert [o.param for o in command.options][-len(common) :] == common, command.method


def test_generated_category_methods_refuse_unknown_keywords_by_name() -> None:
    """df.cio.semantic.mobile is generated, and still names itself in the error."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(UnknownArgumentError, match=r"df\.cio\.semantic\.mobile\(\)"):
        frame.cio.semantic.mobile("Application Opened", user_id="uid", tokn="t", dry_run=True)
    parameters = inspect.signature(frame.cio.semantic.mobile).parameters
    assert list(parameters)[:4] == ["event", "user_id", "anonymous_id", "token"]


def test_a_misspelled_common_role_is_refused_with_its_spelling() -> None:
    """The common roles come through **options, and are still known keywords of each method."""
    frame = pd.DataFrame({"uid": ["u1"]})
    with pytest.raises(UnknownArgumentError, match=r"df\.cio\.track\(\).*timestamp="):
        frame.cio.track(user_id="uid", event="e", timestmp="now", dry_run=True)
    with pytest.raises(UnknownArgumentError, match=r"semantic\.video\(\).*message_id="):
        frame.cio.semantic.video("Video Playback Started", user_id="uid", mesage_id="m")
