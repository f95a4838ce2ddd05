"""The restricted evaluator every expression of a process model runs in.

Scripts, pre/post scripts, sequence-flow conditions, timer expressions, DMN input expressions, input
entries and output entries, multi-instance and loop expressions: SpiffWorkflow hands each to the
script engine's environment, and ``SandboxEnvironment`` compiles it with RestrictedPython (the library
SpiffArena's restricted script engine is built on) and runs it over a short list of safe builtins, the
helpers and the task data. RestrictedPython refuses by default: every syntax node needs a visitor that
allows it, names and attributes starting with ``_`` never compile, and attribute access, subscripts,
iteration and writes go through the guard functions below. ``_Policy`` narrows it further (no import,
``while``, ``def``, ``lambda``, ``class``, ``try``, ``with``, ``global``, ``*``/``**`` unpacking in
calls and lists) and routes ``*``, ``**``, ``<<``, ``+``, ``%``, ``str()`` and f-string values through
size checks.

What is bounded: one evaluation takes at most MAX_ITERATIONS steps (items drawn from ``for`` loops and
comprehensions, and calls of methods and of ``key`` functions), and with no ``while`` and no function of its own
it always ends; the methods of texts, numbers and containers (bound or not, ``s.upper`` as ``str.upper``) and the
``key`` of ``sorted``, ``min`` and ``max`` return at most MAX_ALLOCATION characters or items over the whole
evaluation (``_Evaluation``); ``range`` gives fewer than 1,000 items, ``round`` at most 999 digits; ``*``, ``+``,
``str()``, f-strings, ``%``, ``str.replace``, ``str.join``, ``list.extend`` and slice assignment produce at most
MAX_LENGTH characters or items; integers from ``*``, ``**`` and ``<<`` stay within MAX_INT_BITS; format widths stay
within MAX_FORMAT_WIDTH; padding, ``translate`` and ``int.to_bytes`` are refused. Not bounded: the memory a bounded
loop builds up from many operator results (``*``, ``+``, ...) each within these limits, and the time one builtin
(``sorted``, ``max``, ...) takes over the data it is given.

``refusals`` is the static check ``engine.definitions.validation.validate`` runs (each refusal an Indonesian sentence
naming what is forbidden); ``compiled`` is the same compiler at run time, cached per expression.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any, cast

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr_raise
from RestrictedPython.Limits import limited_range
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from engine.messages import N_

MAX_ITERATIONS = 10_000  # items drawn by every for loop and comprehension of one evaluation together
MAX_LENGTH = 100_000  # characters or items one operation may produce
MAX_ALLOCATION = 10 * MAX_LENGTH  # characters or items the method calls of one evaluation may produce together
MAX_INT_BITS = 4_096  # about 1,200 decimal digits
MAX_FORMAT_WIDTH = 999  # widths and precisions in f-strings and %-formatting


class SandboxError(Exception):
    """The model's code asked for something the sandbox refuses: a forbidden name, attribute or statement, or a limit.

    SpiffWorkflow wraps it (WorkflowTaskException) like any error of a script: the step fails, nothing of it runs on.
    """


def _bounded_sum(items: Iterable[Any], /, start: Any = 0) -> Any:
    """``sum`` of numbers only: summing lists or strings would copy them over and over."""
    if not isinstance(start, int | float):
        raise SandboxError("sum() hanya menjumlahkan angka")
    return sum(items, start)


def _bounded_round(number: Any, ndigits: int | None = None) -> Any:
    """``round`` to at most MAX_FORMAT_WIDTH digits either way: round(5, -10**9) would compute 10**(10**9)."""
    if ndigits is not None and abs(ndigits) > MAX_FORMAT_WIDTH:
        raise SandboxError(f"round() paling banyak {MAX_FORMAT_WIDTH} angka")
    return round(number, ndigits)


_SAFE_FUNCTIONS = "abs all any bool dict enumerate float int isinstance len list max min set sorted str tuple zip".split()  # noqa: SIM905
_BOUNDED_FUNCTIONS = {"range": limited_range, "round": _bounded_round, "sum": _bounded_sum}
SAFE_BUILTINS: dict[str, Any] = {**{name: getattr(builtins, name) for name in _SAFE_FUNCTIONS}, **_BOUNDED_FUNCTIONS}
ALLOWED_FUNCTIONS = ", ".join(sorted(SAFE_BUILTINS))
# Python's builtins the model may not use (those starting with "_" are refused as names already).
_REFUSED_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_")) - SAFE_BUILTINS.keys()

# Attributes refused whatever the object: introspection (RestrictedPython's list: frames, code, generators),
# str.format's attribute walk, the way from a type to ``object``, and what allocates any size asked (padding,
# translation tables mapping a character to a long text, int.to_bytes).
FORBIDDEN_ATTRIBUTES = frozenset(
    INSPECT_ATTRIBUTES | {"format", "format_map", "mro", "ljust", "rjust", "center", "zfill", "expandtabs", "translate", "maketrans", "to_bytes"}
)

# What the refusals say (validation shows them as findings, engine/definitions/findings.py), marked for the English pages.
MSG_FORBIDDEN_NAME = N_("Nama '%(name)s' tidak diizinkan: nama yang diawali garis bawah (_) tertutup bagi model.")
MSG_FORBIDDEN_ATTRIBUTE = N_("Atribut '%(name)s' tidak diizinkan: model hanya memakai data tugas, bukan bagian dalam objek Python.")
MSG_FORBIDDEN_KEY = N_("Kunci '%(name)s' tidak diizinkan: kunci yang diawali garis bawah (_) tertutup bagi model.")
MSG_FORBIDDEN_IMPORT = N_("Impor '%(name)s' tidak diizinkan: model hanya memakai fungsi bantu dan data tugas.")
MSG_FORBIDDEN_FUNCTION = N_("Fungsi '%(name)s' tidak diizinkan. Model hanya boleh memanggil fungsi bantu (lihat README) dan %(allowed)s.")
MSG_FORBIDDEN_SYNTAX = N_(
    "'%(name)s' tidak diizinkan di model proses: skrip model ditulis tanpa while, def, lambda, class, try, with, global, "
    "serta tanpa * atau ** untuk membuka isi daftar."
)
MSG_FORBIDDEN_FORMAT = N_("Format '%(name)s' tidak diizinkan: lebar dan presisi format ditulis langsung sebagai angka, paling besar %(width)s.")
MSG_FORBIDDEN_OTHER = N_("Tidak diizinkan di model proses: %(name)s")

_REFUSED_SYNTAX: dict[type[ast.AST], str] = {
    ast.While: "while",
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.Lambda: "lambda",
    ast.ClassDef: "class",
    ast.Try: "try",
    ast.TryStar: "try",
    ast.With: "with",
    ast.AsyncWith: "async with",
    ast.AsyncFor: "async for",
    ast.Await: "await",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
}
_GUARDED_OPERATORS: dict[type[ast.operator], str] = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_"}
_DIGITS = re.compile(r"\d+")
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


@dataclass(frozen=True)
class Refusal:
    """One thing an expression may not do: the line in the expression, a MSG_FORBIDDEN_* template, and what it names."""

    line: int
    template: str
    name: str

    @property
    def values(self) -> dict[str, str]:
        return {"name": self.name, "allowed": ALLOWED_FUNCTIONS, "width": str(MAX_FORMAT_WIDTH)}

    def __str__(self) -> str:
        return self.template % self.values


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, narrowed for process models; each refusal is recorded as a Refusal."""

    def refuse(self, node: ast.AST, template: str, name: str) -> None:
        self.errors.append(Refusal(getattr(node, "lineno", 1) or 1, template, name))  # type: ignore[arg-type]

    def error(self, node: ast.AST, info: str) -> None:  # RestrictedPython's own refusals, in its words
        self.refuse(node, MSG_FORBIDDEN_OTHER, info)

    def visit(self, node: ast.AST) -> Any:
        refused = _REFUSED_SYNTAX.get(type(node))
        if refused is None and isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Load):
            refused = "*"  # [*xs, *xs] doubles a list without any guard seeing it
        if refused is None and isinstance(node, ast.keyword) and node.arg is None:
            refused = "**"
        if refused is not None:
            self.refuse(node, MSG_FORBIDDEN_SYNTAX, refused)
            return self.node_contents_visit(node)  # go on, to name everything else that is wrong inside
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None and not _small_format(node.format_spec):
            self.refuse(node, MSG_FORBIDDEN_FORMAT, ast.unparse(node.format_spec)[2:-1])
        return super().visit(node)

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is not None and name.startswith("_") and name != "_":
            self.refuse(node, MSG_FORBIDDEN_NAME, name)
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id == "print" and isinstance(node.ctx, ast.Load):  # RestrictedPython would rewrite it to its print collector
            self.refuse(node, MSG_FORBIDDEN_FUNCTION, node.id)
            return node
        return super().visit_Name(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> Any:
        modules = [getattr(node, "module", None) or alias.name for alias in node.names]
        self.refuse(node, MSG_FORBIDDEN_IMPORT, ", ".join(dict.fromkeys(m for m in modules if m)) or "-")
        return node

    visit_ImportFrom = visit_Import

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
            self.refuse(node, MSG_FORBIDDEN_FUNCTION, node.func.id)
            return self.node_contents_visit(node)
        node = cast(ast.Call, super().visit_Call(node))  # RestrictedPython returns the call, or an _apply_(...) call wrapping it
        if isinstance(node.func, ast.Name) and node.func.id == "str" and node.args:
            node.args[0] = _guarded("_text_", node.args[0])  # str() of a list: its text is measured first
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        node = cast(ast.FormattedValue, super().visit_FormattedValue(node))  # RestrictedPython returns the node it visited
        node.value = _guarded("_text_", node.value)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
            self.refuse(node, MSG_FORBIDDEN_ATTRIBUTE, node.attr)
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("_"):
            self.refuse(node, MSG_FORBIDDEN_KEY, key.value)
        return super().visit_Subscript(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        return node if guard is None else _guarded(guard, node.left, node.right, at=node)


def _guarded(guard: str, *args: ast.expr, at: ast.expr | None = None) -> ast.Call:
    """``guard(*args)``, placed where ``at`` (by default the first argument) is in the source."""
    call = ast.Call(func=ast.Name(guard, ast.Load()), args=list(args), keywords=[])
    copy_locations(call, at or args[0])
    return call


def _small_format(spec: ast.AST) -> bool:
    """An f-string format spec written out (no ``{…}`` inside) whose numbers stay within MAX_FORMAT_WIDTH."""
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        return False
    return all(int(n) <= MAX_FORMAT_WIDTH for p in parts for n in _DIGITS.findall(p.value))  # type: ignore[attr-defined]


def _restricted(tree: ast.AST, mode: str) -> tuple[CodeType | None, list[Refusal]]:
    """Compile a parsed expression with RestrictedPython under ``_Policy``: (code, []) or (None, the refusals)."""
    compile_restricted = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compile_restricted(tree, "<string>", policy=_Policy)  # type: ignore[arg-type]
    found = [e if isinstance(e, Refusal) else Refusal(1, MSG_FORBIDDEN_OTHER, str(e)) for e in result.errors]
    return (None, found) if found else (result.code, [])


def refusals(source: str, mode: str, defined: Iterable[str] = ()) -> list[Refusal]:
    """What the sandbox refuses in ``source`` (mode ``exec`` or ``eval``), in line order; [] also for a syntax error
    (another check names those). ``defined``: names the model itself sets, which may shadow a refused builtin."""
    try:
        tree = ast.parse(source, "<string>", mode)
    except SyntaxError:
        return []
    own = set(defined) | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    found = [
        Refusal(node.lineno, MSG_FORBIDDEN_FUNCTION, node.id)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in _REFUSED_BUILTINS and node.id not in own
    ]
    found += _restricted(tree, mode)[1]
    return sorted(dict.fromkeys(found), key=lambda r: r.line)


@lru_cache(maxsize=2048)
def compiled(source: str, mode: str) -> CodeType:
    """The code of an expression (mode ``eval``) or script (``exec``), compiled once per text.

    Raises SyntaxError, or SandboxError naming every refusal.
    """
    text = source.lstrip(" \t") if mode == "eval" else source  # as eval() reads a string
    code, found = _restricted(ast.parse(text, "<string>", mode), mode)
    if code is None:
        raise SandboxError("; ".join(str(r) for r in found))
    return code


# ---- the guards the compiled code calls --------------------------------------------------------------


_TOO_LONG = f"hasil melebihi {MAX_LENGTH} karakter atau unsur"


def _check_length(size: int) -> None:
    if size > MAX_LENGTH:
        raise SandboxError(_TOO_LONG)


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise SandboxError(f"bilangan melebihi {MAX_INT_BITS} bit")


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        _check_bits(abs(a).bit_length() + abs(b).bit_length())
    elif isinstance(b, int) and hasattr(a, "__len__"):
        _check_length(len(a) * max(b, 0))
    elif isinstance(a, int) and hasattr(b, "__len__"):
        _check_length(len(b) * max(a, 0))
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        _check_bits(math.ceil(b * math.log2(abs(a))))
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a:
        _check_bits(abs(a).bit_length() + b)
    return a << b


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes | list | tuple) and isinstance(b, str | bytes | list | tuple):
        _check_length(len(a) + len(b))
    return a + b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        text = a if isinstance(a, str) else a.decode("latin-1")
        for match in _PRINTF.finditer(text):
            if any(n is not None and (n == "*" or int(n) > MAX_FORMAT_WIDTH) for n in match.groups()):
                raise SandboxError(f"lebar format melebihi {MAX_FORMAT_WIDTH}")
        _text(b)
    return a % b


def _size(value: Any, limit: int) -> int:
    """The size of the text made of ``value`` (``str()`` of it): a text its length, an integer about its digits, a
    container its items and theirs, anything else 1. Counted only until it passes ``limit``: a list holding one long
    text many times would print as many copies, and measuring must not take as long as printing."""
    size, pending = 0, [value]
    while pending and size <= limit:
        item = pending.pop()
        if isinstance(item, str | bytes):
            size += len(item)
        elif isinstance(item, int):
            size += item.bit_length() // 3 + 1
        elif isinstance(item, list | tuple | set | frozenset | dict):
            size += len(item) + 1
            if size <= limit:  # checked before its items are queued: what is queued is bounded too
                pending.extend(item.items() if isinstance(item, dict) else item)
        else:
            size += 1
    return size


def _text(value: Any) -> Any:
    """``value`` unchanged, once the text made of it (``str()``, an f-string, ``%``) is known to stay within
    MAX_LENGTH. Raises SandboxError."""
    _check_length(_size(value, MAX_LENGTH))
    return value


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _add,
    "*=": _mul,
    "**=": _pow,
    "<<=": _lshift,
    "%=": _mod,
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def _bounded_method(obj: Any, name: str) -> Callable[..., Any] | None:
    """The size-checked stand-in for a method that can multiply what it is given, or None."""
    if isinstance(obj, type) and name in ("replace", "join", "extend"):  # str.join(sep, items) would go round the check
        raise SandboxError(MSG_FORBIDDEN_ATTRIBUTE % {"name": f"{obj.__name__}.{name}"})
    if isinstance(obj, str | bytes) and name == "replace":

        def replace(old: Any, new: Any, count: int = -1, /) -> Any:
            hits = obj.count(old) if old else len(obj) + 1
            hits = hits if count < 0 else min(hits, count)
            _check_length(len(obj) + hits * (len(new) - len(old)))
            return obj.replace(old, new, count)

        return replace
    if isinstance(obj, str | bytes) and name == "join":

        def join(items: Iterable[Any], /) -> Any:
            parts = list(items)
            _check_length(sum(len(p) for p in parts if isinstance(p, str | bytes)) + len(obj) * len(parts))
            return obj.join(parts)

        return join
    if isinstance(obj, list) and name == "extend":

        def extend(items: Iterable[Any], /) -> None:
            parts = list(items)
            _check_length(len(obj) + len(parts))
            obj.extend(parts)

        return extend
    return None


def _getattr(obj: Any, name: str) -> Any:
    """``obj.name`` as the model writes it (the name is always a literal: the model has no getattr())."""
    if name in FORBIDDEN_ATTRIBUTES:
        raise SandboxError(MSG_FORBIDDEN_ATTRIBUTE % {"name": name})
    value = safer_getattr_raise(obj, name)  # refuses "_" names and str.format as well
    return _bounded_method(obj, name) or value


def _getitem(obj: Any, key: Any) -> Any:
    if isinstance(key, str) and key.startswith("_"):
        raise SandboxError(MSG_FORBIDDEN_KEY % {"name": key})
    return obj[key]


class _ListWriter:
    """What ``xs[...] = ...`` and ``del xs[...]`` write through: slice assignment cannot grow a list past MAX_LENGTH."""

    def __init__(self, target: list[Any]) -> None:
        self.target = target

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            value = list(value)
            _check_length(len(self.target) + len(value))
        self.target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.target[key]


def _write(obj: Any) -> Any:
    """The model may change the items of the dicts and lists of the task data, and nothing else."""
    if type(obj) is dict:
        return obj
    if type(obj) is list:
        return _ListWriter(obj)
    raise SandboxError(f"objek {type(obj).__name__} tidak dapat diubah oleh model")


# What a method of these may return is new memory (``"x".encode().hex()`` doubles a text): their methods are metered.
_METERED_TYPES = (str, bytes, list, tuple, dict, set, frozenset, int, float)


class _Evaluation:
    """The budgets of one evaluation. Steps: every item any loop or comprehension draws and every metered call
    count against MAX_ITERATIONS. Allocation: what every metered call returns (measured as ``str()`` of it would be)
    counts against MAX_ALLOCATION. Metered are the methods of texts, numbers and containers, bound or not
    (``s.upper``, ``str.upper``), and the ``key`` of ``sorted``, ``min`` and ``max`` (a builtin calls it unseen).
    One call returns at most a small multiple of what it is given, which was bounded in turn, so a chain of calls
    (``s.encode().hex().encode().hex()…``) stops within a few times MAX_ALLOCATION."""

    def __init__(self) -> None:
        self.steps = MAX_ITERATIONS
        self.allocation = MAX_ALLOCATION

    def guards(self) -> dict[str, Any]:
        """The names of a scope that belong to this evaluation."""
        keyed = {name: self._metering_key(SAFE_BUILTINS[name]) for name in ("sorted", "min", "max")}
        return {"__builtins__": {**SAFE_BUILTINS, **keyed}, "_getiter_": self.getiter, "_getattr_": self.getattr}

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise SandboxError(f"perulangan melebihi {MAX_ITERATIONS} langkah")

    def getiter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """``_getiter_``: the items of ``iterable``, one step each. Raises SandboxError past MAX_ITERATIONS."""
        for item in iterable:
            self.step()
            yield item

    def getattr(self, obj: Any, name: str) -> Any:
        """``_getattr_``: ``obj.name`` as ``_getattr`` gives it, metered when it is a method of a _METERED_TYPES."""
        value = _getattr(obj, name)
        metered = isinstance(obj, _METERED_TYPES) or (isinstance(obj, type) and issubclass(obj, _METERED_TYPES))
        return self.metered(value) if metered and callable(value) else value

    def metered(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function``, each call a step and its result spent from the allocation. Raises SandboxError past either."""

        def call(*args: Any, **kwargs: Any) -> Any:
            self.step()
            result = function(*args, **kwargs)
            self.allocation -= _size(result, self.allocation)
            if self.allocation < 0:
                raise SandboxError(f"hasil seluruh evaluasi melebihi {MAX_ALLOCATION} karakter atau unsur")
            return result

        return call

    def _metering_key(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``sorted``, ``min`` or ``max`` with its ``key`` metered."""

        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("key") is not None:
                kwargs["key"] = self.metered(kwargs["key"])
            return function(*args, **kwargs)

        return call


_GUARDS: dict[str, Any] = {
    "_getitem_": _getitem,
    "_write_": _write,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_mul_": _mul,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_add_": _add,
    "_mod_": _mod,
    "_text_": _text,
}


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's TaskDataEnvironment, with every expression and script run in the sandbox.

    As there, a script's variables become the task data (assigned, changed or deleted), while the helpers,
    builtins, guards and external context do not; a script that fails changes no top-level name of the data.
    """

    def _scope(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
        # the guards last: data cannot replace one
        return {**self.globals, **(external_context or {}), **context, **_GUARDS, **_Evaluation().guards()}

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        """Return the expression's value. Raises SyntaxError, SandboxError, or whatever the expression raises."""
        return eval(compiled(expression, "eval"), self._scope(context, external_context))

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        """Run the script and write its variables into ``context`` (the task data). Raises as ``evaluate`` does, and
        ValueError when the data has a name of a helper (as TaskDataEnvironment does)."""
        self.check_for_overwrite(context, external_context or {})
        code = compiled(script, "exec")
        scope = self._scope(context, external_context)
        exec(code, scope)
        hidden = self.globals.keys() | (external_context or {}).keys()
        written = {k: v for k, v in scope.items() if not k.startswith("_") and k not in hidden and not callable(v)}
        written.update((k, v) for k, v in context.items() if k.startswith("_"))  # names the model cannot write pass through
        context.clear()
        context.update(written)
        return True
