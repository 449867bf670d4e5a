"""Library messages in the command line's words: ``user_id='ID'`` is ``--user-id ID``.

The library's errors name keywords and calls (``identify() needs user_id=``,
``journeys=False``, ``df.cio.suppress(...)``); the command says them as the
flags and commands a shell user types, read from the commands themselves
(:func:`pandas_cio.cli.options.commands`) and the send options' flags.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Mapping
from typing import Any

from .options import FLAGGED, Command, commands, flag_of

__all__ = ["cli_spelling"]

# Send and connection options: the library's keyword and the command's option.
# The connection ones are Client keywords whose flags have the same name.
_SHARED_FLAGS = {
    name: flag_of(name)
    for name in (
        *(option.name for option in FLAGGED),
        "region",
        "base_url",
        "workers",
        "timeout",
        "gzip",
    )
}
# A method or call in a message: df.cio.identify(), track(event=...), objects.upsert().
_CALL = re.compile(r"(?:df\.cio\.)?\b([a-z_][a-z_.]*)\(([^()]*)\)")
# A keyword with an optional Python value: user_id='ID', dry_run=True, traits=['a'], timestamp=.
_KEYWORD = re.compile(
    r"\b([a-z][a-z_]*)=(\[[^\]]*\]|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|True|False|None|-?\d+(?:\.\d+)?)?"
)
_NEAR_CONSTANT = re.compile(
    r"(\w+)=('(?:[^'\\]|\\.)*') is not a column, but close to column ('(?:[^'\\]|\\.)*'); "
    r"pass col\(.*?\) for the column or lit\(.*?\) for the constant"
)


def _flags(command: Command | None) -> dict[str, str]:
    """Every keyword the messages may name, with the option that gives it."""
    flags = dict(_SHARED_FLAGS)
    # Every command spells a keyword the same way; the command's own come last
    # only so that they win should that ever change.
    for each in (*commands(), *((command,) if command is not None else ())):
        flags.update({option.param: option.flag for option in each.options})
    return flags


def _commands_by_name() -> dict[str, Command]:
    """Commands by the names messages give them: the method and each operation."""
    names: dict[str, Command] = {}
    for each in commands():
        names[each.method] = each
        for operation in each.operations:
            names.setdefault(operation.name, each)
    return names


def _shell_word(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return shlex.quote(str(value))


def _keyword(flags: Mapping[str, str], match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    flag = flags.get(name)
    if flag is None:
        return match.group(0)
    if value is None:
        return flag
    if value == "[...]":
        return f"{flag} ..."
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return f"{flag} {value}"
    if literal is True:
        return flag
    if literal is False:
        return f"--no-{flag[2:]}"
    if literal is None:
        return flag
    return f"{flag} {_shell_word(literal)}"


def _call(flags: Mapping[str, str], names: Mapping[str, Command], match: re.Match[str]) -> str:
    target = names.get(match.group(1))
    if target is None:
        return match.group(0)
    words = ["pandas-cio", *target.words]
    for part in (p.strip() for p in match.group(2).split(",") if p.strip()):
        if part == "...":
            words.append("...")
        elif "=" in part:
            name, _, value = part.partition("=")
            flag = flags.get(name, flag_of(name))
            keyword = _KEYWORD.match(part)
            plain = value in ("", "...") or keyword is None
            words.append(flag if plain or keyword is None else _keyword(flags, keyword))
        else:
            try:
                words.append(_shell_word(ast.literal_eval(part)))
            except (ValueError, SyntaxError):
                words.append(part)
    return " ".join(words)


def cli_spelling(message: str, command: Command | None = None) -> str:
    """Say a library message in the command line's words.

    ``user_id='ID' is not a column`` becomes ``--user-id ID is not a column``,
    ``identify() needs user_id=`` becomes ``needs --user-id`` (the command
    is named before the message already), ``journeys=False`` becomes
    ``--no-journeys`` and ``df.cio.suppress(...)`` ``pandas-cio suppress ...``.

    Parameters
    ----------
    message : str
        The library's message.
    command : Command, optional
        The command that ran; None reads every command's options.

    Returns
    -------
    str

    Examples
    --------
    >>> cli_spelling("user_id='ID' is not a column of the frame; did you mean 'id'?")
    "--user-id ID is not a column of the frame; did you mean 'id'?"
    """
    flags = _flags(command)
    names = _commands_by_name()
    message = _NEAR_CONSTANT.sub(
        lambda m: (
            f"{m.group(1)}={m.group(2)} is not a column, but close to column {m.group(3)}; "
            f"pass {m.group(1)}={m.group(3)} for the column (the command line cannot send "
            f"a constant this close to a column name: rename the column)"
        ),
        message,
    )
    # The command is named before the message, so a leading "identify(): " goes.
    leading = re.match(r"([a-z_][a-z_.]*)\(\)(?::)? ", message)
    if leading and leading.group(1) in names:
        message = message[leading.end() :]
    message = re.sub(
        r"df\.drop\(columns=('(?:[^'\\]|\\.)*')\)", r"remove column \1 from the file", message
    )
    message = message.replace("{column: key}", "column=key,...")
    message = _CALL.sub(lambda m: _call(flags, names, m), message)
    return _KEYWORD.sub(lambda m: _keyword(flags, m), message)
