"""Reading the model's Python expressions without running them: the data paths they read, and gateway conditions
evaluated over assumed values (to prove an exclusive gateway covers every value).

Also how SpiffWorkflow completes a DMN input entry into Python ("?" is the input's value), so it can be checked too.
"""

from __future__ import annotations

import ast
import re
from typing import Any


class Unknown(Exception):
    """An expression the condition checker cannot evaluate (the path it could not resolve, if any)."""


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def path_of(node: ast.AST) -> tuple[str, ...] | None:
    """``pengaduan["reporter"]["email"]`` or ``terima.get("decision")`` as ("pengaduan", "reporter", "email"); None otherwise."""
    keys: list[str] = []
    while True:
        if isinstance(node, ast.Subscript) and _const_str(node.slice) is not None:
            keys.append(_const_str(node.slice))  # type: ignore[arg-type]
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and _const_str(node.args[0]) is not None
        ):
            keys.append(_const_str(node.args[0]))  # type: ignore[arg-type]
            node = node.func.value
        else:
            break
    return (node.id, *reversed(keys)) if isinstance(node, ast.Name) else None


def paths_read(tree: ast.AST) -> list[tuple[str, ...]]:
    """The longest data paths an expression reads (``terima["decision"]``, ``unit_jenis``), outermost first."""
    found: list[tuple[str, ...]] = []

    def visit(node: ast.AST) -> None:
        path = path_of(node) if isinstance(node, ast.Subscript | ast.Call | ast.Name) else None
        if path is not None and not (isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)):
            found.append(path)
            if isinstance(node, ast.Call):  # a helper call's arguments are read too
                for arg in [*node.args[1:], *(k.value for k in node.keywords)]:
                    visit(arg)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def show(path: tuple[str, ...]) -> str:
    return path[0] + "".join(f'["{key}"]' for key in path[1:])


_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


def evaluate(node: ast.AST, values: dict[tuple[str, ...], Any]) -> Any:
    """Evaluate a gateway condition over assumed values, without running any code. Raises Unknown."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [evaluate(item, values) for item in node.elts]
    path = path_of(node)
    if path is not None:
        if path in values:
            return values[path]
        raise Unknown(path)
    if isinstance(node, ast.BoolOp):
        results = (evaluate(item, values) for item in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not evaluate(node.operand, values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = evaluate(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = evaluate(comparator, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise Unknown(None)


DMN_INPUT = "dmninputexpr"  # SpiffWorkflow's name for the input's value in a DMN input entry ("?")
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # a "?" outside quotes, as DMNEngine finds it


def dmn_input_entry(text: str) -> str:
    """A DMN input entry as SpiffWorkflow completes it: "?" stands for the input's value; "< 5" compares the value."""
    text = _DMN_QUESTION_MARK.sub(DMN_INPUT, text)
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return f"{DMN_INPUT} {text}"
    return text
