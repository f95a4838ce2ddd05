"""The engine's sentences for people: marked where they are written, translated by the web layer.

engine/ speaks Indonesian and has no Flask. Each sentence it shows a person is written once, as a
template wrapped in ``N_`` (``%(name)s`` for a part that varies). ``N_`` returns the template
unchanged; pybabel extracts it (scripts/i18n.sh, ``-k N_``) into the web's catalogue.

A ``Message`` is a template filled in: a plain ``str`` to everything else (JSON, the database,
tests), which also remembers its template and values, so web/labels.py ``engine_text`` translates
it exactly. Text that arrives without them (read back from the database, carried through the
session) is matched against ``templates()``: every template marked in engine/.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

ENGINE = Path(__file__).resolve().parent


def N_(template: str) -> str:
    """Mark ``template`` as a sentence to translate; return it unchanged."""
    return template


class Message(str):
    """The Indonesian text of ``template`` filled with ``values``."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        # without values the template is the text as written (it may hold a literal "%")
        message = super().__new__(cls, template % values if values else template)
        message.template, message.values = template, values
        return message


def _marked(node: ast.AST) -> str | None:
    """The template of an ``N_("...")`` call, as pybabel reads it; None for any other node."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_" and len(node.args) == 1:
        argument = node.args[0]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
    return None


@cache
def templates() -> frozenset[str]:
    """Every template marked with ``N_`` in engine/, read from the source: a sentence raised or
    written inside a function is known before that code ever runs."""
    found = set()
    for path in sorted(ENGINE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "N_(" not in source:
            continue
        for node in ast.walk(ast.parse(source, str(path))):
            template = _marked(node)
            if template is not None:
                found.add(template)
    return frozenset(found)
