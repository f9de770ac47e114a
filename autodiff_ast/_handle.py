"""The function handed to the user for a derivative at Python floats.

A derivative's code at Python floats (``_float_handle``) answers the
calls it was made for: each argument a Python float, or the very default
it was made with. The handle is that code itself, compiled again with one
check as its first statement, which passes every other call on to the
array transform that made it: a handle that called the code would cost a
second call, as much as ``6 * x + 4`` at a float costs. The outputs are
returned as Python floats (``_output_types``), as the transform gives
them.

Generated code reads globals, closure cells and attributes by name, so it
is never stale for numbers. What it cannot read by name (a helper function
it inlined, a loop bound, a list of constants) it bakes in; a changed
baked value makes the handle generate its code again, and while it
differs, the regenerated code answers instead. Where Python's float
arithmetic raises (``1 / x`` at 0.0), the code runs again as NumPy runs
it (``_as_numpy``), giving NumPy's inf and warning.
``handle.__wrapped__`` is the generated function itself, so
``inspect.getsource`` shows the derivative's code.

Defaults are read when the handle is called, as Python reads the user's:
the handle's own defaults are a marker (``OMITTED``), and an argument
left out takes the default of the code that answers, once a changed
``f.__defaults__`` has made that code again. ``inspect.signature`` shows
the generated function's (``__wrapped__``) real defaults.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import keyword
import linecache
import types
from typing import Any, Callable, Sequence

from ._as_numpy import CAUGHT, numeric_retry
from ._lower_records import DEFAULTS, Read, staleness
from ._output_types import (GUARD_CELLS, Plan, cast, caster,
                            floats_as_computed, proof, python_float, recast)
from ._parameters import all_defaults

__all__ = ["make_handle", "implementation", "OMITTED"]

# The names the guard reads besides the function's own.
_GUARDS = {"_autodiff_ast_float": float}
# What answers where Python's float arithmetic raises (1 / x at 0.0), as
# NumPy would (``_as_numpy``): an attribute of one cell, which a
# regenerated derivative replaces.
_RETRY = "_autodiff_ast_retry.call"


class _Omitted:
    """The handle's default for each parameter that has one: the argument
    was left out, so it takes the default of the code that answers."""

    def __repr__(self) -> str:
        return "<the default>"


OMITTED = _Omitted()


def make_handle(function: types.FunctionType, reads: Sequence[Read],
                regenerate: Callable[[], types.FunctionType],
                answer: Callable[..., Any], plan: Plan,
                as_made: tuple[int, ...]) -> types.FunctionType:
    """A function with ``function``'s signature that answers the calls
    ``function`` was made for and passes every other call on to
    ``answer``: ``function``'s code itself with that check first, else
    (no source at hand) a function that checks and calls it.

    ``function`` is array code made at Python floats, and at the defaults
    at the positions ``as_made`` as they were: it answers the calls where
    every other argument is a Python float and each of those is that very
    default. ``answer`` (the array transform, which made the code) answers
    the rest. ``reads`` are the values the code baked in, re-checked on
    each call; ``regenerate`` makes the derivative again once one has
    changed. The outputs ``plan`` names are returned as Python floats
    (``_output_types``), also where the code computes NumPy's float64.
    """
    code = function.__code__
    params = list(_parameters(code))
    if any(keyword.iskeyword(p) or p.startswith("_autodiff_ast")
           for p in params):
        return function
    arguments = ", ".join(params)
    # (before the defaults are filled in: an argument left out is passed
    # on left out, as the transform's fast call takes it)
    passed_on = [f"if not ({_as_made(params, function, as_made)}):",
                 f"    return _autodiff_ast_arrays({arguments})"]
    retry = types.SimpleNamespace(call=_retry(function, plan))
    casting: dict[str, Any] = {}
    passed = None
    returns = None
    if plan is not None:
        convert, passed = caster(plan, params, python_float)
        definition = _definition(function)
        # Shown to compute a number (not an array) for each output: made
        # a Python float by float itself, in C.
        numbers = definition is not None and proof(
            definition, function, plan) is not None
        if isinstance(plan, int) and numbers:
            convert, passed = float, ""
        casting.update({"_autodiff_ast_cast": convert,
                        "_autodiff_ast_leaf": float if numbers
                        else python_float,
                        "_autodiff_ast_recast": recast(function, plan,
                                                       retry.call),
                        **GUARD_CELLS})
        floats = [p for i, p in enumerate(params) if i not in as_made]
        if definition is None or not floats_as_computed(
                definition, function, plan, floats):
            # (else Python floats already, by arithmetic: 6 * x + 4)
            returns = _CastReturns(passed, plan, params, numbers)
    answer = _passer(answer, params, code.co_argcount)
    checked = _checked_copy(function, passed_on, retry, reads, regenerate,
                            answer, casting, returns)
    if checked is not None:
        return checked
    namespace: dict[str, Any] = {
        **_GUARDS,
        "_autodiff_ast_call": function,
        "_autodiff_ast_retry": retry,
        "_autodiff_ast_arrays": answer,
        **casting,
        **_defaults_named(function),
    }
    lines = [f"def {function.__name__}({_signature(code)}):"]
    if reads:  # before the defaults are filled in: they may have changed
        stale, values = staleness(reads)
        namespace.update(values)
        namespace["_autodiff_ast_checking"] = True
        namespace["_autodiff_ast_refresh"] = lambda: refresh()
        lines += [f"    if _autodiff_ast_checking and ({stale}):",
                  "        _autodiff_ast_refresh()"]
        exec(compile(f"def _autodiff_ast_stale():\n    return {stale}\n",
                     "<autodiff_ast staleness>", "exec"), namespace)
    lines += [f"    {line}"
              for line in passed_on + _filling(params, function)]

    def refresh() -> None:
        # From now on the regenerated derivative (with its own checks)
        # answers; this handle stops checking what it baked in, and shows
        # the new code.
        renewed = regenerate()
        namespace["_autodiff_ast_call"] = renewed
        retry.call = _retry(implementation(renewed), plan)
        namespace["_autodiff_ast_checking"] = False
        namespace.update(_defaults_named(implementation(renewed)))
        for shown in ("__wrapped__", "__autodiff_ast__"):
            if hasattr(renewed, shown):
                setattr(handle, shown, getattr(renewed, shown))

    def current() -> types.FunctionType:
        """The generated function that answers now, regenerated first if
        something it baked in has changed."""
        if namespace.get("_autodiff_ast_checking") and \
                namespace["_autodiff_ast_stale"]():
            refresh()
        return implementation(namespace["_autodiff_ast_call"])

    called = f"_autodiff_ast_call({_passed(code)})"
    lines += ["    try:",
              f"        return {called}" if plan is None else
              f"        return _autodiff_ast_cast({called}, {passed})",
              f"    except {CAUGHT}:",
              f"        return {_RETRY}({_passed(code)})"]
    source = "\n".join(lines) + "\n"
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"<autodiff_ast handle of {function.__name__} {digest}>"
    linecache.cache[filename] = (len(source), None,
                                 source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)
    handle: types.FunctionType = namespace[function.__name__]
    handle.__defaults__ = _omitted(function)
    handle.__kwdefaults__ = _omitted_keywords(function)
    return _dressed(handle, function, current)


def _as_made(params: Sequence[str], function: types.FunctionType,
             as_made: tuple[int, ...]) -> str:
    """The condition under which ``function``, made at Python floats and
    the defaults at the positions ``as_made``, answers a call: each other
    argument a Python float, each of those the very default it was made
    for (another value, or an equal one that is not it, is passed on)."""
    start = len(params) - len(all_defaults(function))

    def answers(i: int, p: str) -> str:
        made = (f"{p} is _autodiff_ast_d{i - start}" if i in as_made
                else f"{p}.__class__ is _autodiff_ast_float")
        return made if i < start else \
            f"({made} or {p} is _autodiff_ast_omitted)"

    return " and ".join(map(answers, range(len(params)), params)) or "True"


def _retry(function: types.FunctionType, plan: Plan) -> Callable[..., Any]:
    """What answers where Python's float arithmetic raises in
    ``function`` (``_as_numpy``), its result cast by ``plan`` to Python
    floats."""
    return numeric_retry(function, None if plan is None else
                         functools.partial(cast, plan=plan, to=python_float))


def _dressed(handle: types.FunctionType, function: types.FunctionType,
             current: Callable[[], types.FunctionType]) -> types.FunctionType:
    """``handle`` named and documented as ``function``, which it shows
    (``__wrapped__``), with the hook ``implementation`` calls."""
    handle.__doc__ = function.__doc__
    handle.__qualname__ = function.__qualname__
    handle.__module__ = function.__module__
    handle.__wrapped__ = function  # type: ignore[attr-defined]
    handle.__autodiff_ast_current__ = current  # type: ignore[attr-defined]
    return handle


def _checked_copy(function: types.FunctionType, passed_on: list[str],
                  retry: types.SimpleNamespace, reads: Sequence[Read],
                  regenerate: Callable[[], types.FunctionType],
                  arrays: Callable[..., Any], casting: dict[str, Any],
                  returns: _CastReturns | None
                  ) -> types.FunctionType | None:
    """The handle as ``function`` itself, compiled again with the checks
    first (``_checking_copy``), the names ``casting`` gives as cells, and
    each return's outputs cast by ``returns`` (None: as computed);
    ``passed_on``:
    the check that passes a call on to ``arrays``, before the defaults
    are filled in. While a value it baked in
    differs, the regenerated derivative answers (and is what the handle
    shows); once the value is back, the code is current again and answers
    itself."""
    params = _parameters(function.__code__)
    arguments = ", ".join(params)
    count = function.__code__.co_argcount
    cells = {"_autodiff_ast_retry": types.CellType(retry),
             "_autodiff_ast_arrays": types.CellType(arrays),
             **{name: types.CellType(value) for name, value in
                {**casting, **_defaults_named(function)}.items()}}
    renewed: list[types.FunctionType] = []
    showing_renewed = types.CellType(False)

    def answer(*args: Any) -> Any:
        """The call while a baked value differs, or on the first call
        after it is back."""
        if stale():
            if not renewed:
                renewed.append(regenerate())
            result = _passing_on(renewed[0], params, args, count)
            # (shown after the call: it may have made its code again)
            _show(handle, renewed[0])
            showing_renewed.cell_contents = True
            return result
        _show(handle, function)
        showing_renewed.cell_contents = False
        # (checked and filled in as any call is)
        return _passing_on(handle, params, args, count)

    stale: Callable[[], bool] = _never
    if not reads:
        guard = _filling(params, function)
    else:
        condition, values = staleness(reads)
        cells.update((name, types.CellType(value))
                     for name, value in values.items())
        cells["_autodiff_ast_answer"] = types.CellType(answer)
        cells["_autodiff_ast_showing_renewed"] = showing_renewed
        # An argument left out takes the default once the code is known
        # to be current; one passed needs no look at the defaults.
        guard = _filling(params, function, [
            f"    if _autodiff_ast_showing_renewed or {condition}:",
            f"        return _autodiff_ast_answer({arguments})"])
        others = [r for r in reads if r.key not in DEFAULTS]
        if others:
            rest, named = staleness(others, len(reads))
            cells.update((name, types.CellType(value))
                         for name, value in named.items())
            guard += [f"if _autodiff_ast_showing_renewed or {rest}:",
                      f"    return _autodiff_ast_answer({arguments})"]
        namespace = dict(values)
        exec(compile(f"def stale():\n    return {condition}\n",
                     "<autodiff_ast staleness>", "exec"), namespace)
        stale = namespace["stale"]

    def current() -> types.FunctionType:
        """The generated function that answers now."""
        if not stale():
            return function
        if not renewed:
            renewed.append(regenerate())
        return implementation(renewed[0])

    handle = _checking_copy(function, [*passed_on, *guard], cells,
                            returns)
    return None if handle is None else _dressed(handle, function, current)


def _filling(params: Sequence[str], function: types.FunctionType,
             first: Sequence[str] = ()) -> list[str]:
    """The guard's lines that give an argument left out its default,
    after the lines ``first``."""
    defaulted = params[len(params) - len(all_defaults(function)):]
    return [line for index, p in enumerate(defaulted) for line in (
        f"if {p} is _autodiff_ast_omitted:", *first,
        f"    {p} = _autodiff_ast_d{index}")]


def _defaults_named(function: types.FunctionType) -> dict[str, Any]:
    """``function``'s defaults by the names the handle's guard reads
    them by (``_autodiff_ast_d0``, ...), with the marker of an omitted
    argument."""
    named = {f"_autodiff_ast_d{index}": value for index, value in
             enumerate(all_defaults(function))}
    return {"_autodiff_ast_omitted": OMITTED, **named}


def _omitted(function: types.FunctionType) -> tuple[Any, ...] | None:
    """The handle's defaults: the marker for each of ``function``'s."""
    defaults = function.__defaults__
    return None if defaults is None else (OMITTED,) * len(defaults)


def _omitted_keywords(function: types.FunctionType
                      ) -> dict[str, Any] | None:
    """The handle's keyword-only defaults: the marker for each of
    ``function``'s."""
    defaults = function.__kwdefaults__
    return None if defaults is None else dict.fromkeys(defaults, OMITTED)


def _passing_on(answering: Callable[..., Any], params: Sequence[str],
                args: tuple[Any, ...], count: int) -> Any:
    """``answering`` called with ``args`` (one per parameter, the first
    ``count`` positional) as the handle took them, an argument left out
    (``OMITTED``) left out again, so that the default of the code that
    answers applies."""
    first = next((i for i, a in enumerate(args[:count]) if a is OMITTED),
                 count)
    if first == len(args):
        return answering(*args)
    return answering(*args[:first], **{
        name: value for name, value in zip(params[first:], args[first:])
        if value is not OMITTED})


def _passer(answering: Callable[..., Any], params: Sequence[str],
            count: int) -> Callable[..., Any]:
    """``answering`` called as ``_passing_on`` calls it."""
    def answer(*args: Any) -> Any:
        return _passing_on(answering, params, args, count)

    return answer


def _show(handle: types.FunctionType, answering: types.FunctionType) -> None:
    """Make ``handle`` show the code of ``answering`` (a generated function
    or the handle of one)."""
    handle.__wrapped__ = getattr(  # type: ignore[attr-defined]
        answering, "__wrapped__", answering)
    if hasattr(answering, "__autodiff_ast__"):
        handle.__autodiff_ast__ = (  # type: ignore[attr-defined]
            answering.__autodiff_ast__)


def _never() -> bool:
    return False


def _definition(function: types.FunctionType) -> ast.FunctionDef | None:
    """The parsed ``def`` of generated ``function``; None when its source
    is not at hand or uses our names."""
    code = function.__code__
    lines = linecache.getlines(code.co_filename)
    if not lines or code.co_firstlineno != 1 or any(
            name.startswith("_autodiff_ast") for name in _names(code)):
        return None
    try:
        tree = ast.parse("".join(lines), code.co_filename)
    except SyntaxError:
        return None
    definition = tree.body[0] if len(tree.body) == 1 else None
    if not (isinstance(definition, ast.FunctionDef)
            and definition.name == code.co_name):
        return None
    return definition


class _CastReturns(ast.NodeTransformer):
    """Each return of the function (not of one nested in it) gives the
    outputs ``plan`` names as Python floats, on the return's own line. A
    tuple returned as written has each output cast where it stands, one
    call each (``_autodiff_ast_leaf(d2_dx2)``: ``float`` where ``numbers``,
    the code shown to compute a number for each, else ``python_float(
    d2_dx2, x)``, which takes arrays too): a cast that walked the plan
    cost 1.4 us of a two-argument gradient's 2.2. Any other value is cast
    whole (``_autodiff_ast_cast(value, (x, y))``; ``passed``: what the cast
    takes besides the value)."""

    def __init__(self, passed: str, plan: Plan, params: Sequence[str],
                 numbers: bool) -> None:
        self.passed = passed
        self.plan = plan
        self.params = params
        self.numbers = numbers

    def visit_Return(self, node: ast.Return) -> ast.Return:
        if node.value is None:
            return node
        value = self._leaves(node.value, self.plan)
        if value is None:
            passed = [ast.parse(self.passed, mode="eval").body] \
                if self.passed else []
            value = ast.Call(ast.Name("_autodiff_ast_cast", ast.Load()),
                             [node.value, *passed], [])
        original = set(map(id, ast.walk(node.value)))
        for made in ast.walk(value):
            if id(made) not in original:
                ast.copy_location(made, node.value)
        node.value = value
        return node

    def _leaves(self, value: ast.expr, plan: Plan) -> ast.expr | None:
        """``value`` with each output ``plan`` names cast where it
        stands; None where the plan's tuples are not written out."""
        if plan is None:
            return value
        if isinstance(plan, int):
            argument = [] if self.numbers else [
                ast.Name(self.params[plan], ast.Load())]
            return ast.Call(ast.Name("_autodiff_ast_leaf", ast.Load()),
                            [value, *argument], [])
        if not (isinstance(value, ast.Tuple) and len(value.elts) == len(
                plan)):
            return None
        parts = [self._leaves(e, p) for e, p in zip(value.elts, plan)]
        if any(part is None for part in parts):
            return None
        return ast.Tuple(parts, ast.Load())  # type: ignore[arg-type]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        return node  # (a nested function's returns are its own)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        return node


def _checking_copy(function: types.FunctionType, guard: list[str],
                   cells: dict[str, types.CellType],
                   returns: _CastReturns | None = None
                   ) -> types.FunctionType | None:
    """``function`` compiled again from its own source with ``guard`` (the
    checks) as its first statements, in its globals and cells and with
    ``cells`` for the names the guard reads: one call instead of two (the
    calling handle cost 35 ns a call, the argument check costs 15). The
    guard stands on the ``def`` line, so every other line keeps its
    number: tracebacks, pdb and coverage show the generated source. With
    ``returns``, each return casts its outputs (``_CastReturns``).
    None when the source is not at hand or uses our names (then the
    handle calls ``function``)."""
    code = function.__code__
    definition = _definition(function)
    if definition is None:
        return None
    lines = linecache.getlines(code.co_filename)
    check_first = ast.parse("\n".join(guard)).body
    for node in check_first:
        for child in ast.walk(node):  # the whole def line, for tracebacks
            child.lineno = child.end_lineno = 1  # type: ignore[attr-defined]
            child.col_offset = 0  # type: ignore[attr-defined]
            child.end_col_offset = len(lines[0].rstrip())  # type: ignore
    if returns is not None:
        definition.body = [returns.visit(statement)
                           for statement in definition.body]
    body = definition.body
    documented = (body and isinstance(body[0], ast.Expr)
                  and isinstance(body[0].value, ast.Constant)
                  and isinstance(body[0].value.value, str))
    first = int(bool(documented))
    body[first:first] = check_first
    start = first + len(check_first)
    # Python's float arithmetic raising (1 / x at 0.0) retries as NumPy.
    retry = ast.parse(f"try:\n    pass\nexcept {CAUGHT}:\n"
                      f"    return {_RETRY}({_passed(code)})"
                      ).body[0]
    assert isinstance(retry, ast.Try)
    for child in ast.walk(retry):
        child.lineno = child.end_lineno = 1  # type: ignore[attr-defined]
    retry.body = body[start:]
    body[start:] = [retry]
    # The cells (the user's, and the guard's) become free variables of
    # the copy by defining it inside a function that binds them.
    cells = {**{name: types.CellType(value) for name, value in
                _GUARDS.items()},
             **cells,
             **dict(zip(code.co_freevars, function.__closure__ or ()))}
    binders = "".join(f"    {name} = None\n" for name in sorted(cells))
    outer = ast.parse(f"def _autodiff_ast_scope():\n{binders}"
                      f"    return {code.co_name}\n").body[0]
    assert isinstance(outer, ast.FunctionDef)
    for child in ast.walk(outer):
        if hasattr(child, "lineno"):
            child.lineno = child.end_lineno = 1  # type: ignore[attr-defined]
    outer.body[-1:-1] = [definition]
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module([outer], []), code.co_filename, "exec"),
         namespace)
    made = namespace["_autodiff_ast_scope"]().__code__
    copy = types.FunctionType(made, function.__globals__, code.co_name,
                              _omitted(function),
                              tuple(cells[name] for name in made.co_freevars))
    copy.__kwdefaults__ = _omitted_keywords(function)
    return copy


def _parameters(code: types.CodeType) -> tuple[str, ...]:
    """``code``'s parameters, its keyword-only ones last."""
    return code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def _signature(code: types.CodeType) -> str:
    """The parameters of a ``def`` that takes ``code``'s, a bare ``*``
    before the keyword-only ones."""
    names = _parameters(code)
    count = code.co_argcount
    return ", ".join([*names[:count], *["*"] * (len(names) > count),
                      *names[count:]])


def _passed(code: types.CodeType) -> str:
    """The arguments of a call that passes on each of ``code``'s
    parameters, a keyword-only one by its name."""
    count = code.co_argcount
    names = _parameters(code)
    return ", ".join([*names[:count], *(f"{n}={n}" for n in names[count:])])


def _names(code: types.CodeType) -> set[str]:
    """Every name ``code`` and the code nested in it use."""
    names = {*code.co_names, *code.co_varnames, *code.co_freevars,
             *code.co_cellvars}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def implementation(fn: Any) -> Any:
    """The generated function behind a handle (current), else ``fn``."""
    current = getattr(fn, "__autodiff_ast_current__", None)
    return current() if current is not None else fn
