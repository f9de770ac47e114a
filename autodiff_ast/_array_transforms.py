"""Jacobians, Hessians and jvps of array code, and derivatives of its
derivatives.

An ``ArrayTransform`` is a chain of stages applied to one program: the
function lowered for an input signature, then each stage's transform in
turn (``grad``: reverse mode; ``jacobian``: reverse mode with the
identity over each output as a batch of cotangents (``_jacrev``), or
forward mode with the identity over each argument as a batch of tangents
(``jacfwd``, and where a step has no batched reverse rule); ``jvp``:
forward mode along tangents that are arguments). ``hessian`` is ``grad``
(a reverse ``jacobian`` where the output is not a number, as JAX's
``jacfwd(jacrev(f))``) then a forward ``jacobian``, so the Hessian of
the logistic loss comes out as ``inputs.T @ (inputs * (p * (1 - p))[:,
None])``; ``jacobian(grad(f))`` and ``jvp(grad(f), ...)`` (a
Hessian-vector product) compose the same way. The result is one generated
NumPy function per signature, as for ``grad``, returning the pytree
structure JAX gives (``out.shape + in.shape`` at each leaf; ``_returns``),
which the transform casts leaf by leaf to the arguments' dtypes.
"""

from __future__ import annotations

import functools
import inspect
import operator
import textwrap
import types
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import optree
import sympy as sp

from . import _diskcache
from ._as_floats import as_floats
from ._as_numpy import ARITHMETIC, numeric_retry
from ._array_codegen import (ArrayFunctionSpec, _shape_check,
                             generate_array_source)
from ._backward import gradients
from ._argument_refusals import branch_on_arrays, string_as_a_number
from ._unparse import Literal
from ._compile import Scope, compile_function
from ._differentiate import aux_leaf, split_aux
from ._dispatch import (complete_arguments, describe_argument, signature,
                        spelled_kind, taken_as_constant)
from ._errors import AutodiffError, InputError, NoSourceError, OutputError
from ._fast_call import fast_call
from ._forward import tangents
from ._jacrev import has_loop, reverse_jacobian
from ._limits import collector_paused, deep_recursion
from ._lower import unbind
from ._lower_arrays import (ArrayLowered, _bind_argument, check_output,
                            computed_dtype, lower_arrays)
from ._ops_core import reshaped
from ._ops_create import EYE
from ._ops_loop import is_elementwise
from ._ops_scatter import float_dtype
from ._output_types import python_float
from ._parameters import keyword_only_names
from ._program import Program, Shape, _identifier
from ._returns import buildable, with_returns

__all__ = ["Stage", "ArrayTransform", "defined_at", "describe",
           "call_in_full", "kinds_of", "MISSED", "NUMBER_TYPES"]

_TITLES = {"grad": "Gradient", "value_and_grad": "Value and gradient",
           "jacobian": "Jacobian", "hessian": "Hessian", "jvp": "jvp"}


@dataclass(frozen=True)
class Stage:
    """One transform: ``kind`` with respect to ``argnums`` (a tuple of
    results when ``as_tuple``), splitting ``(value, aux)`` if
    ``has_aux``."""

    kind: str  # "grad", "value_and_grad", "jacobian" or "jvp"
    argnums: tuple[int, ...]
    as_tuple: bool
    has_aux: bool
    # What its results are called in generated code (a Hessian's jacobian
    # stage: "hessian"); the kind by default.
    label: str = ""
    # A jacobian's mode: "forward" (jacfwd), else reverse where every step
    # it goes through has a batched reverse rule (_jacrev). A Hessian's is
    # forward over its first stage, as JAX's (jacfwd of jacrev). That first
    # stage is a grad of mode "any": the gradient of a number, else the
    # Jacobian of what the function returns (an array, a tuple), so a
    # vector function's Hessian is out.shape + in.shape + in.shape.
    mode: str = ""


@dataclass
class _Generated:
    lowered: ArrayLowered
    function: types.FunctionType
    source: str
    structure: Any  # optree spec of the result
    # per flat output: what to give it as (None: as computed; float; a
    # NumPy scalar type; a dtype)
    dtypes: list[Any]
    any_size: bool  # the code reads every size when it runs
    # It returns the result's structure (``_returns``), not its leaves.
    structured: bool = False
    # Stores the code in the disk cache, where its making did not (the
    # code at floats a handle keeps there whole, ``_float_handle``).
    kept: Callable[[], None] = lambda: None

    def __post_init__(self) -> None:
        self.one_leaf = (self.structure.num_nodes == 1
                         and self.structure.num_leaves == 1)
        # Where the code returns the result's structure and it is made of
        # tuples only, what it returns is the result once each leaf is in
        # its type already (the usual call: no structure rebuilt).
        self.returns_result = _tuples_only(self.structure) and (
            self.structured or self.structure.num_nodes
            == self.structure.num_leaves + 1)

    def called(self, args: tuple[Any, ...]) -> Any:
        """The generated function called with one argument per parameter;
        where Python's float arithmetic raises (``1 / x`` at 0.0), called
        again as NumPy runs it (``_as_numpy``), as the handle at floats
        is: NumPy's inf and its warning."""
        try:
            return call_in_full(self.function, args)
        except ARITHMETIC:
            return call_in_full(numeric_retry(self.function), args)

    def result(self, returned: Any) -> Any:
        """What the generated function returned (the result's structure,
        or a tuple of its leaves, or the one leaf), in the result's
        structure and types."""
        if self.one_leaf:
            return _cast(returned, self.dtypes[0])
        results = (self.structure.flatten_up_to(returned) if self.structured
                   else list(returned) if isinstance(returned, tuple)
                   else [returned])
        cast = [_cast(value, dtype)
                for value, dtype in zip(results, self.dtypes)]
        if self.returns_result and returned.__class__ is tuple and all(
                map(operator.is_, cast, results)):
            return returned
        return optree.tree_unflatten(self.structure, cast)


def _tuples_only(structure: Any) -> bool:
    """Whether every node of ``structure`` above its leaves is a tuple."""
    if structure.num_nodes == 1:
        return True
    return structure.type is tuple and all(
        map(_tuples_only, structure.children()))


class ArrayTransform:
    """A chain of transforms of a function with array operations,
    generated per input signature when called (``ad.source(t, *args)``
    shows the code)."""

    def __init__(self, fun: types.FunctionType, stages: tuple[Stage, ...],
                 params: tuple[str, ...],
                 defaults: Callable[[], tuple[Any, ...]],
                 base: str, location: str, name: str, title: str,
                 at_a_number: tuple[str, str] | None = None) -> None:
        self.fun = fun
        self.stages = stages
        self.params = params
        self.read_defaults = defaults  # read on each call, as Python does
        self.base = base
        self.location = location
        self.title = title
        # A gradient's code where the argument it is taken with respect to
        # is a number: a derivative, named as one writes it (``dg_dx``,
        # "Derivative of g with respect to x.").
        self.at_a_number = at_a_number
        self.generated: dict[Any, _Generated] = {}
        # The code by the kinds of arguments passed in full by position
        # (``kinds_of``): a second call of the same kinds finds it there.
        self.recent: dict[tuple[Any, ...], tuple[
            _Generated, tuple[Any, ...], Callable[..., Any]]] = {}
        # ``answering``'s functions, by kinds, with the entry of ``recent``
        # each was made from (its code and defaults).
        self.answerers: dict[tuple[Any, ...], tuple[
            tuple[Any, ...], Callable[..., Any]]] = {}
        self.takes_tangents = any(stage.kind == "jvp" for stage in stages)
        # The call at arguments of the kinds last answered (``_fast_call``)
        self.fast: Callable[..., Any] = self.by_kinds
        self.by_signature: dict[Any, _Generated] = {}
        self._forward: ArrayTransform | None = None
        self.__name__ = name
        self.__qualname__ = name
        self.__doc__ = (f"{title} Generated by autodiff_ast for each input "
                        "signature.")

    def __repr__(self) -> str:
        return f"<autodiff_ast {self.__name__}>"

    @property
    def defaults(self) -> tuple[Any, ...]:
        """The user's defaults, as they are now."""
        return self.read_defaults()

    @property
    def keyword_only(self) -> int:
        """How many of the last parameters are keyword-only in the user's
        function (``*, k=2.0``)."""
        function, _ = unbind(self.fun)
        return len(keyword_only_names(function))

    @property
    def __signature__(self) -> inspect.Signature | None:
        """The user's function's parameters (``inspect.signature`` shows
        them, as for the handle at floats); a jvp's is its own."""
        if self.takes_tangents:
            return None
        try:
            signature = inspect.signature(self.fun)
        except (TypeError, ValueError):
            return None
        return signature.replace(return_annotation=signature.empty)

    @property
    def differentiated(self) -> tuple[int, ...]:
        """The positions of the arguments a grad, Jacobian or Hessian
        stage takes derivatives with respect to (a jvp's ints have no
        tangent, as in JAX, and stay ints)."""
        return tuple(sorted({n for stage in self.stages
                             if stage.kind != "jvp" for n in stage.argnums}))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the code made for these kinds of arguments
            return self.fast(*args)
        return self.in_full(*args, **kwargs)

    def by_kinds(self, *args: Any) -> Any:
        """A call without keyword arguments that ``fast`` did not answer:
        by the code made for arguments of its kinds, if any."""
        known = self.recent.get(kinds_of(args))
        if known is not None and known[0].lowered.is_current():
            # (its compiled call answers the next calls of these kinds)
            entry, defaults, self.fast = known
            return entry.result(entry.called((*args, *defaults)))
        return self.in_full(*args)

    def answering(self, args: tuple[Any, ...]) -> Callable[..., Any] | None:
        """A function that answers calls with arguments of the kinds of
        ``args`` by the code made for them, while it is current, and
        returns ``MISSED`` for every other call; None where no code was
        made for them (or they are not numbers and arrays)."""
        kinds = kinds_of(args)
        known = self.recent.get(kinds)
        if known is None:
            return None
        entry, defaults, _ = known
        made = self.answerers.get(kinds)
        if made is None or made[0] is not known:
            # (made once per code: a call of other kinds comes this way)
            made = known, fast_call(
                entry.function, kinds, defaults, entry.lowered.reads,
                entry.result, entry.structure, entry.dtypes,
                entry.returns_result, _missed)
            self.answerers[kinds] = made
        return made[1]

    def in_full(self, *args: Any, **kwargs: Any) -> Any:
        """A call that no code made for its kinds answers."""
        if not self.takes_tangents:
            # (as Python binds them: a keyword-only argument by name only)
            positional = len(self.params) - self.keyword_only
            if len(args) > positional:
                raise TypeError(
                    f"{self.__name__}() takes {positional} positional "
                    f"argument{'s' * (positional != 1)} but {len(args)} "
                    f"were given")
        return self.positionally(*args, **kwargs)

    def positionally(self, *args: Any, **kwargs: Any) -> Any:
        """The call with keyword-only arguments allowed by position (as the
        handle at floats passes on the call it cannot answer)."""
        given = args
        if not self.takes_tangents:
            args = as_floats(complete_arguments(
                self.__name__, self.params, self.defaults, args, kwargs),
                self.differentiated)
        elif kwargs:
            raise TypeError(f"{self.__name__}() takes the primals and then "
                            "the tangents, by position")
        entry = self.entry_for(args)
        if not (kwargs or self.keyword_only or entry.lowered.fixed) \
                and all(a is b for a, b in zip(args, given)):
            # Called again with arguments of the same kinds (numbers of
            # the same types, arrays of the same shapes and dtypes), the
            # code answers at once: in an optimiser's loop the rest of
            # this call would cost 30 times a small gradient's code.
            # (the defaults as they are now: the code is current while
            # they are unchanged)
            kinds = kinds_of(given)
            if kinds is not None:
                if len(self.recent) >= _MOST_RECENT:  # (sizes by the 1000)
                    self.recent.clear()
                    self.answerers.clear()
                defaults = args[len(given):]
                self.fast = fast_call(
                    entry.function, kinds, defaults, entry.lowered.reads,
                    entry.result, entry.structure, entry.dtypes,
                    entry.returns_result, self.by_kinds)
                self.recent[kinds] = (entry, defaults, self.fast)
        return entry.result(entry.called(args))

    def entry_for(self, args: tuple[Any, ...],
                  keep: bool = True) -> _Generated:
        """The code for ``args``, made now if none is current; ``keep``:
        stored in the disk cache when made (else by its ``kept``)."""
        expected = len(self.params) * (2 if self.takes_tangents else 1)
        if len(args) != expected:
            raise TypeError(f"{self.__name__}() takes {expected} arguments "
                            f"but {len(args)} were given")
        orders = _dict_orders(args)
        # Code that reads every size when it runs serves every shape of
        # the same ranks; code with a size in it, only its own shapes.
        ranks = signature(args, by_rank=True)
        entry = self.generated.get((ranks, orders))
        if entry is not None and entry.lowered.is_current():
            return entry
        shapes = signature(args)
        entry = self.generated.get((shapes, orders))
        if entry is not None and entry.lowered.is_current():
            return entry
        with deep_recursion(self.__name__), collector_paused():
            # The same code serves dicts in another key order; only the
            # result's structure (the caller's order) is new.
            known = self.by_signature.get(ranks) or self.by_signature.get(
                shapes)
            reused = (orders is not None and known is not None
                      and any(known is e for e in self.generated.values())
                      and known.lowered.is_current())
            entry = self.generate(args, known if reused else None, keep)
        key = ranks if entry.any_size else shapes
        self.generated[(key, orders)] = entry
        self.by_signature[key] = entry
        return entry

    def source_for(self, args: tuple[Any, ...],
                   kwargs: dict[str, Any] | None = None) -> str:
        """The code that answers a call at ``args`` and ``kwargs``."""
        if not self.takes_tangents:
            args = as_floats(complete_arguments(
                self.__name__, self.params, self.defaults, args,
                kwargs or {}), self.differentiated)
        elif kwargs:
            raise TypeError(f"{self.__name__}() takes the primals and then "
                            "the tangents, by position")
        return self.entry_for(args).source

    def at_floats(self) -> tuple[Any, ...]:
        """The arguments the code at floats is made for: a Python float in
        each parameter without a default (and each tangent of a jvp), the
        defaults as they are."""
        if self.takes_tangents:
            return (1.0,) * (2 * len(self.params))
        required = len(self.params) - len(self.defaults)
        return (1.0,) * required + tuple(self.defaults)

    def entry_at_floats(self, keep: bool = True) -> _Generated | None:
        """The code for ``at_floats``; None where the function does not
        take numbers there (it reads a shape, indexes, or counts with
        one). ``keep``: as ``entry_for``'s."""
        args = self.at_floats()
        try:
            return self.entry_for(args if self.takes_tangents else as_floats(
                args, self.differentiated), keep)
        except (AutodiffError, TypeError) as error:
            if getattr(error, "at_any_arguments", False):
                raise  # (a complex derivative: at arrays too)
            return None

    def refuse_early(self) -> None:
        """Refuse now, when the derivative is made (not at its first
        call), an output that a gradient cannot take at any arguments: a tuple
        without has_aux, a bool, a value that is not a pair with it; a
        call written with arguments its callee does not take; and a
        helper whose file was edited since it was imported. The
        function is lowered at Python floats; where it does not take them
        (it indexes, multiplies matrices or counts with an argument) or
        fails there otherwise, the call decides."""
        if len(self.stages) != 1:
            return  # (a derivative's output is its own)
        (stage,) = self.stages
        if stage.kind not in ("grad", "value_and_grad"):
            return  # (a Jacobian takes any outputs)
        try:
            lowered = lower_arrays(
                self.fun, as_floats(self.at_floats(), self.differentiated),
                stage.argnums, self.called(),
                f"{self.base} ({self.location})")
        except NoSourceError:
            raise  # (a helper edited since it was imported: at any call)
        except AutodiffError as error:
            if getattr(error, "at_any_arguments", False):
                raise  # (np.log(x, 2): a call its callee does not take)
            return
        except Exception:
            # (an assert on a shape, failing; anything else that fails at
            # floats: the call decides, as before this check, and making
            # the derivative does not fail on it)
            return
        where = f"{lowered.name} ({self.location})"
        value, _ = split_aux(lowered.output, where, stage.has_aux)
        if not isinstance(value, sp.Expr):
            check_output(lowered, stage.has_aux, value, where)

    def sources_run(self) -> list[str]:
        """The code written for the signatures it was called at, once
        each, while current."""
        sources = {entry.source: None for entry in self.generated.values()
                   if entry.lowered.is_current()}
        return list(sources)

    def in_forward_mode(self) -> "ArrayTransform":
        """This chain with its last stage, a Jacobian, in forward mode
        (``jacfwd``); made once, so its generated code is kept."""
        if self._forward is None:
            last = replace(self.stages[-1], mode="forward")
            self._forward = ArrayTransform(
                self.fun, self.stages[:-1] + (last,), self.params,
                self.read_defaults, self.base, self.location,
                self.__name__.replace("jacobian", "jacfwd", 1), self.title)
        return self._forward

    def called(self) -> str:
        """The transform the user called, as its errors name it."""
        last = self.stages[-1]
        if last.label == "hessian":
            return "hessian"
        if last.kind == "jacobian":
            return "jacfwd" if last.mode == "forward" else "jacobian"
        return last.kind

    def then(self, stage: Stage, name: str, title: str,
             at_a_number: tuple[str, str] | None = None
             ) -> "ArrayTransform":
        """This chain followed by ``stage`` (``at_a_number``: the name and
        title of its code at a number, where they differ)."""
        return ArrayTransform(self.fun, self.stages + (stage,), self.params,
                              self.read_defaults, self.base, self.location,
                              name, title, at_a_number)

    def named_for(self, primals: tuple[Any, ...]) -> tuple[str, str]:
        """The name and the docstring's first line of the code for
        ``primals``: at a number (shape (), as the docstring's kinds say
        it, ``x: float32``), a derivative's."""
        if self.at_a_number is not None:
            (argnum,) = self.stages[-1].argnums
            value = primals[argnum]
            if isinstance(value, (float, int, np.number, np.ndarray)) and \
                    not isinstance(value, bool) and np.ndim(value) == 0:
                return self.at_a_number
        return self.__name__, self.title

    # -- generation ------------------------------------------------------------

    def generate(self, args: tuple[Any, ...],
                 known: _Generated | None = None,
                 keep: bool = True) -> _Generated:
        """The code for ``args``' signature: ``known`` (its text, already
        written for this signature), read from the disk cache, or written
        now (and stored there, with ``keep``; else by its ``kept``)."""
        count = len(self.params)
        primals = args[:count]
        wrt_numbers = sorted({n for stage in self.stages
                              for n in (_moving(primals)
                                        if stage.kind == "jvp"
                                        else stage.argnums)})
        where = f"{self.base} ({self.location})"
        try:
            lowered = lower_arrays(self.fun, primals, tuple(wrt_numbers),
                                   self.called(), where)
        except AutodiffError as error:
            refusal = branch_on_arrays(
                error, self.params, primals, where,
                lambda: lower_arrays(self.fun, as_floats(
                    self.at_floats()[:count], self.differentiated),
                    tuple(wrt_numbers), self.called(), where))
            if refusal is None:
                refusal = string_as_a_number(error, self.params, primals,
                                             where)
            if refusal is None:
                raise
            raise refusal from None
        if known is not None:
            return self.assembled(lowered, args, wrt_numbers, known.source,
                                  known.any_size)
        key = _diskcache.cache_key(self.fun, (
            "array, returning its structure", self.__name__, self.title, self.location, self.stages,
            signature(args), _digest(lowered)))
        entry = _diskcache.load(key) if key else None
        cached = entry.get("source") if entry else None
        if isinstance(cached, str) and isinstance(entry.get("any_size"),
                                                  bool):
            try:
                return self.assembled(lowered, args, wrt_numbers, cached,
                                      entry["any_size"])
            except (SyntaxError, ValueError, TypeError, KeyError):
                pass  # a damaged entry: generated again, below
        generated = self.assembled(lowered, args, wrt_numbers, None)
        if key:
            generated.kept = functools.partial(
                _diskcache.store, key, {"source": generated.source,
                                        "name": self.named_for(primals)[0],
                                        "any_size": generated.any_size})
            if keep:
                generated.kept()
        return generated

    def assembled(self, lowered: ArrayLowered, args: tuple[Any, ...],
                  wrt_numbers: list[int], text: str | None,
                  any_size: bool = False) -> _Generated:
        """The generated function for ``args``: its code written now, or
        ``text`` (read from the disk cache; the transforms then only build
        the result's structure)."""
        count = len(self.params)
        primals = args[:count]
        dry = text is not None
        where = f"{lowered.name} ({self.location})"
        program = lowered.program
        as_written = frozenset(step.target for step in program.steps)
        output = lowered.output
        parts = _block_parts(lowered, self.stages, output)
        params = list(lowered.params)
        kinds = _argument_kinds(lowered, primals)
        # Per output, the type its argument gives it, as known after each
        # stage: a forward Jacobian of a gradient has each row in its
        # gradient's type (a Hessian is JAX's jacfwd(jacrev)).
        known: dict[tuple, Any] = {}
        for position, stage in enumerate(self.stages):
            if position:  # what this stage differentiates is a derivative
                where = (f"the gradient of {lowered.name} ({self.location})"
                         if self.stages[position - 1].kind == "grad" else
                         f"the derivative of {lowered.name} "
                         f"({self.location})")
            # Per output of the last stage: its name where it is returned,
            # and for a gradient the argument leaf it is shaped like.
            labels: dict[Any, str] = {}  # by identity, or by place
            likes: dict[tuple, sp.Symbol] = {}  # a gradient's argument
            owners: dict[tuple, sp.Symbol] = {}  # a Jacobian block's argument
            # a forward Jacobian block's dtype, its output's: known of the
            # function's own outputs, where no earlier stage cast them
            row_dtypes: dict[tuple, np.dtype] | None = \
                {} if position == 0 else None
            if stage.kind in ("grad", "value_and_grad") and not (
                    stage.mode == "any" and _not_a_number(program, output,
                                                          stage, where)):
                output = _grad(program, lowered, output, stage, where, likes,
                               labels, dry, own=not position)
            elif stage.kind in ("grad", "jacobian"):
                output = _jacobian(program, lowered, output, stage, where,
                                   labels, dry, owners, row_dtypes,
                                   _weak(lowered, primals))
            else:
                output, names = _jvp(program, lowered, output, stage, where,
                                     args[count:], labels, dry)
                params += names
            known = _known_kinds(output, stage, known, kinds, likes, owners)
        paths, leaves, structure = optree.tree_flatten_with_path(output)
        outputs = [leaf if isinstance(leaf, sp.Expr) else aux_leaf(leaf,
                                                                   where)
                   for leaf in leaves]
        if text is None:
            last = self.stages[-1]
            names = [labels.get(path) or labels.get(id(leaf)) or name
                     for leaf, path, name in zip(leaves, paths, _output_names(
                         last.label or last.kind, paths if parts is None or
                         len(parts) != len(paths) else parts))]
            text, any_size = self.written(
                lowered, primals, params, names, outputs,
                [likes.get(path) for path in paths], where, as_written)
        structured = structure.num_nodes > 1 and buildable(structure)
        if structured and not dry:
            text = with_returns(text, structure)
        function = compile_function(text, self.named_for(primals)[0],
                                    lowered.data, scope=Scope.of(self.fun))
        dtype = _floating(primals, wrt_numbers)
        # (a reverse-mode Jacobian's block in its argument's dtype, as
        # JAX's jacrev casts each cotangent to its primal's)
        dtypes = [None if isinstance(o, Literal)
                  or id(leaf) in labels and path not in likes
                  else known[path] if path in known
                  else _row_kind(row_dtypes[path], dtype)
                  if row_dtypes and path in row_dtypes and dtype is not float
                  else dtype for o, leaf, path in zip(outputs, leaves, paths)]
        return _Generated(lowered, function, text, structure, dtypes,
                          any_size, structured)

    def written(self, lowered: ArrayLowered, primals: tuple[Any, ...],
                params: list[str], names: list[str], outputs: list[Any],
                shaped_like: list[Any], where: str,
                as_written: frozenset[sp.Symbol] = frozenset()
                ) -> tuple[str, bool]:
        """The source of the generated function, and whether it reads
        every size when it runs (no shape check at its top);
        ``shaped_like``: per output, the argument leaf a gradient is
        shaped like (else None); ``as_written``: the steps of the user's
        function."""

        # The user's defaults where the code takes the user's arguments
        # and a default reads as a literal (a number, a string, None).
        as_user = tuple(params) == self.params
        defaults = self.defaults if as_user and all(
            d is None or type(d) in (bool, int, float, str)
            for d in self.defaults) else ()
        keyword_only = self.keyword_only if as_user else 0

        # Code on numbers the user wrote with math. is written with math.
        # (invariant 5).
        namespace = "math" if lowered.namespaces == {"math"} and not any(
            lowered.program.leaves[symbol].shape
            for layout in lowered.arguments for symbol in layout.symbols) \
            else "numpy"

        name, title = self.named_for(primals)

        def spec_with(docstring: str) -> ArrayFunctionSpec:
            return ArrayFunctionSpec(name, tuple(params), docstring,
                                     lowered.program, outputs, names,
                                     lowered.labels, shaped_like, defaults,
                                     namespace, counts, keyword_only,
                                     optree.tree_leaves(lowered.output),
                                     as_written)

        # (int arguments whose values the code bakes in: checked as shapes)
        counts = {symbol.name: value for symbol, value
                  in lowered.program.sizes.items()
                  if symbol.name in lowered.fixed and symbol.name in params}

        # The docstring says what the code serves: the shapes it checks,
        # or, where it reads every size when it runs, ranks and dtypes.
        any_size = not (_shape_check(spec_with("")) or lowered.fixed)
        arguments = [layout.name for layout in lowered.arguments]
        signature = ", ".join(
            f"{name}: {kind}" for name, kind in zip(arguments, _kinds(
                # (a size's letter is not a name the code reads: a global N)
                primals, any_size, set(arguments)
                | set(lowered.program.names))))
        generated = textwrap.fill(
            f"Generated by autodiff_ast for {signature}.", width=75,
            initial_indent="    ", subsequent_indent="    ",
            break_on_hyphens=False)
        spec = spec_with(f"{title}\n\n    {self.base} "
                         f"{defined_at(self.location)}.\n{generated}\n    ")
        try:
            return generate_array_source(spec), any_size
        except (TypeError, ValueError, RecursionError) as exc:
            raise AutodiffError(
                f"cannot write the {title.split(' of ')[0].lower()} of "
                f"{where} as code: {exc}. Please report this with the "
                "function.") from exc


# Numbers whose type alone says what code serves them (an optimiser's
# floats; a bool may be a flag, and other types go the full way).
NUMBER_TYPES = frozenset((float, int, np.float64, np.float32))
_MOST_RECENT = 64

# What ``answering``'s function returns for a call it does not answer.
MISSED = object()


def _missed(*args: Any) -> Any:
    return MISSED


def kinds_of(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What code made for ``args`` serves every call with: the types of
    numbers, the shapes and dtypes of arrays; None where an argument is
    anything else (a pytree, a bool: the full dispatch decides)."""
    kinds: list[Any] = []
    for arg in args:
        kind = arg.__class__
        if kind is np.ndarray:
            kinds.append((arg.shape, arg.dtype))
        elif kind in NUMBER_TYPES:
            kinds.append(kind)
        else:
            return None
    return tuple(kinds)


def call_in_full(function: types.FunctionType, args: tuple[Any, ...]) -> Any:
    """Generated ``function`` called with one argument per parameter, the
    keyword-only ones (the user's ``*, k=2.0``, kept) by name."""
    code = function.__code__
    if not code.co_kwonlyargcount:
        return function(*args)
    count = code.co_argcount
    return function(*args[:count], **dict(zip(
        code.co_varnames[count:count + code.co_kwonlyargcount],
        args[count:])))


def _kinds(primals: tuple[Any, ...], any_size: bool,
           taken: set[str]) -> list[str]:
    """Each argument's kind as the docstring says it, spelled as the
    CLI's ``--arg`` takes it: ``float64[5, 3]`` for code that checks its
    shapes; for code that reads every size when it runs, its sizes named
    (``X: float64[N, M], w: float64[M]``; equal sizes of the example share
    a name, and an axis of 1, which broadcasts, stays 1)."""
    if not any_size:
        return [describe_argument(arg) for arg in primals]
    letters = iter([letter for letter in "NMKLPQRSTUVW"
                    if letter not in taken]
                   + [f"N{i}" for i in range(1, 100)])
    named: dict[int, str] = {}

    def kind(leaf: Any) -> str:
        dtype = getattr(leaf, "dtype", type(leaf).__name__)
        sizes = ["1" if size == 1 else named.setdefault(size, next(letters))
                 for size in np.shape(leaf)]
        return spelled_kind(dtype, sizes)

    kinds = []
    for arg in primals:
        if taken_as_constant(arg):
            kinds.append(describe_argument(arg))
            continue
        leaves, structure = optree.tree_flatten(arg)
        described = [kind(leaf) for leaf in leaves]
        kinds.append(described[0] if structure.num_nodes == 1
                     and len(described) == 1 else
                     repr(optree.tree_unflatten(structure, described))
                     .replace("'", ""))
    return kinds


def _digest(lowered: ArrayLowered) -> str:
    """What generated code depends on in a lowered program (its steps,
    the shapes and dtypes of its leaves, the global arrays it reads), as
    text that is the same in every process."""
    program = lowered.program
    leaves = sorted((symbol.name, leaf.shape, leaf.kind, leaf.boolean,
                     leaf.integer, leaf.access)
                    for symbol, leaf in program.leaves.items())
    written = _Written()
    steps = [(step.target.name, step.op.name, written(step.operands),
              repr(step.options)) for step in program.steps]
    return repr((leaves, steps, written(lowered.output),
                 sorted(lowered.data), written.parts))


class _Written:
    """SymPy values as text, each distinct subexpression written once and
    then referred to by its number: linear in the size of the DAG, where
    printing them whole is the size of the tree, and str() sorts every
    sum's terms again (seconds on a program of a thousand statements)."""

    def __init__(self) -> None:
        self.numbers: dict[sp.Basic, int] = {}
        self.parts: list[str] = []

    def __call__(self, value: Any) -> str:
        if isinstance(value, sp.Basic):
            return f"#{self.number(value)}"
        if isinstance(value, (tuple, list)):
            return "(" + ", ".join(self(v) for v in value) + ")"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self(v)}"
                                   for k, v in value.items()) + "}"
        return repr(value)

    def number(self, expr: sp.Basic) -> int:
        known = self.numbers.get(expr)
        if known is not None:
            return known
        if expr.is_Atom:  # (srepr: a float's every digit)
            text = sp.srepr(expr)
        else:
            text = f"{type(expr).__name__}(" + ", ".join(
                f"#{self.number(a)}" for a in expr.args) + ")"
        self.numbers[expr] = len(self.parts)
        self.parts.append(text)
        return self.numbers[expr]


def _dict_orders(args: tuple[Any, ...]) -> Any:
    """The key order of each dict in the arguments (None if there is
    none): pytree structures compare equal whatever the order, but results
    are built in the caller's."""
    orders: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            orders.append(tuple(value))
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for arg in args:
        if type(arg) is not np.ndarray and type(arg) is not float:
            walk(arg)
    return tuple(orders) or None


def _known_kinds(output: Any, stage: Any, before: dict[tuple, Any],
                 kinds: dict[sp.Symbol, Any], likes: dict[tuple, sp.Symbol],
                 owners: dict[tuple, sp.Symbol]) -> dict[tuple, Any]:
    """Per path of ``stage``'s ``output``, the type its derivative is
    given in where an argument decides it: a gradient's and a reverse
    Jacobian's block its argument's (``likes``, ``owners``), a forward
    Jacobian's block that of the output it differentiates (``before``,
    by the longest prefix of its path)."""
    known = {path: kinds[symbol] for path, symbol in
             (*owners.items(), *likes.items())}
    if before and stage.mode == "forward" and not stage.has_aux:
        for path in optree.tree_flatten_with_path(output)[0]:
            for end in range(len(path), -1, -1):
                if path[:end] in before:
                    known.setdefault(path, before[path[:end]])
                    break
    return known


def _argument_kinds(lowered: ArrayLowered,
                    primals: tuple[Any, ...]) -> dict[sp.Symbol, Any]:
    """What a gradient of each argument leaf is returned as: ``float`` for
    a Python float, the NumPy scalar type of a number (``_number_type``),
    else the array's dtype (float32 in, float32 out)."""
    kinds: dict[sp.Symbol, Any] = {}
    for layout, value in zip(lowered.arguments, primals):
        for symbol, leaf in zip(layout.symbols, optree.tree_leaves(value)):
            kinds[symbol] = _number_type(leaf, value) or (
                float if isinstance(leaf, float)
                else getattr(leaf, "dtype", None))
    return kinds


def _number_type(leaf: Any, argument: Any) -> Any:
    """The NumPy scalar type a derivative with respect to ``leaf`` (of
    ``argument``) is returned as: a NumPy number's, and a 0-d array's
    passed as an argument of its own (a number; a 0-d leaf of a pytree
    stays an array); else None."""
    if isinstance(leaf, np.generic) or (
            leaf is argument and isinstance(leaf, np.ndarray)
            and not leaf.ndim):
        return leaf.dtype.type
    return None


def _moving(primals: tuple[Any, ...]) -> list[int]:
    """The arguments a jvp differentiates: all but those with integer or
    boolean leaves (a step count, labels), which have no tangent (JAX's
    float0), so their tangents are not read."""
    return [n for n, primal in enumerate(primals)
            if all(np.asarray(leaf).dtype.kind in "fc"
                   for leaf in optree.tree_leaves(primal))]


def _floating(primals: tuple[Any, ...], numbers: list[int]) -> Any:
    """The dtype derivatives are given: the inputs' (float32 in, float32
    out); ``float`` where they are all Python floats, and the NumPy scalar
    type where they are all NumPy numbers of one type (a Hessian at
    ``np.float64(0.7)`` is an ``np.float64``, as its gradient is)."""
    leaves = [leaf for n in numbers
              for leaf in optree.tree_leaves(primals[n])]
    if not leaves:
        return None
    kinds = {float if type(leaf) is float else _number_type(leaf, primals[n])
             for n in numbers for leaf in optree.tree_leaves(primals[n])}
    if len(kinds) == 1 and None not in kinds and (
            kinds == {float} or issubclass(next(iter(kinds)), np.floating)):
        return kinds.pop()  # (float: not np.float64, a subclass of float)
    return np.result_type(*leaves)


def _row_kind(row: Any, kind: Any) -> Any:
    """What a forward-mode Jacobian's row of dtype ``row`` is returned
    as, where derivatives are given as ``kind`` (``_floating``): a NumPy
    number of ``row`` at NumPy numbers, as the reverse mode's is."""
    if isinstance(kind, type) and issubclass(kind, np.generic):
        return np.dtype(row).type
    return row


def _cast(value: Any, dtype: Any) -> Any:
    """``value`` as ``dtype``: None (as computed), ``float``, a NumPy
    scalar type, or a dtype (lazy arrays, Dask's, stay lazy)."""
    if dtype is None:
        return value
    if value.__class__ is np.ndarray and value.dtype is dtype:
        # (the usual gradient: an array of its argument's dtype)
        return value if value.flags.writeable else np.array(value)
    if dtype is float:
        return python_float(value, None)
    if isinstance(dtype, type):  # np.float32(...) for a NumPy scalar
        return value if value.__class__ is dtype else dtype(value)
    given = getattr(value, "dtype", None)
    if given is None or given != dtype:  # (NumPy's dtype equals None)
        if hasattr(value, "astype"):
            return value.astype(dtype)
        return (dtype.type(value) if isinstance(value, (int, float))
                else np.asarray(value, dtype=dtype))
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        return np.array(value)  # a view NumPy made read-only
    return value


def _block_parts(lowered: ArrayLowered, stages: tuple[Stage, ...],
                 output: Any) -> list[list[str]] | None:
    """Per leaf of the last stage's result, what its name says after the
    transform's: the path of the function's output it derives from, then
    per stage the argument it is taken by (where argnums is a tuple) and
    its keys within that argument (a Hessian's block by x and y: x, y,
    where its path is 0, 1); None where a stage pairs a value or splits
    an aux, whose outputs are named by the stage."""
    parts = [[str(key) for key in path]
             for path in optree.tree_flatten_with_path(output)[0]]
    for stage in stages:
        if stage.has_aux or stage.kind not in ("grad", "jacobian"):
            return None
        by = []
        for n in stage.argnums:
            spec = lowered.arguments[n].spec
            paths, _, _ = optree.tree_flatten_with_path(
                optree.tree_unflatten(spec, [0] * spec.num_leaves))
            by += [([lowered.arguments[n].name] if stage.as_tuple else [])
                   + [str(key) for key in path] for path in paths]
        parts = [before + after for before in parts for after in by]
    return parts


def _output_names(kind: str, paths: list[Any]) -> list[str]:
    """What each output is called where it is returned: ``hessian``, or
    ``hessian_W_b`` after its path in the result's pytree (or the parts
    of its name, ``_block_parts``)."""
    label = {"value_and_grad": "grad", "jvp": "tangent"}.get(kind, kind)
    if len(paths) == 1:
        return [label]
    if kind == "hessian" and all(len(path) == 2 for path in paths):
        # A block by two arguments (or two keys of one) is named as scalar
        # code names it, as the mathematics writes it: d2_dx2, d2_dx_dy.
        return [_identifier(f"d2_d{a}2" if a == b else f"d2_d{a}_d{b}")
                for a, b in paths]
    return [_identifier("_".join([label] + [str(key) for key in path]))
            for path in paths]


# -- stages ------------------------------------------------------------------

def _wrt(lowered: ArrayLowered, stage: Stage) -> list[list[sp.Symbol]]:
    return [list(lowered.arguments[n].symbols) for n in stage.argnums]


def _per_argument(lowered: ArrayLowered, stage: Stage,
                  values: list[list[Any]]) -> Any:
    trees = [optree.tree_unflatten(lowered.arguments[n].spec, leaves)
             for n, leaves in zip(stage.argnums, values)]
    return tuple(trees) if stage.as_tuple else trees[0]


def _grad(program: Program, lowered: ArrayLowered, output: Any,
          stage: Stage, where: str, likes: dict[tuple, sp.Symbol],
          labels: dict[Any, str], dry: bool = False, own: bool = True
          ) -> Any:
    """``stage``'s gradient of ``output``; ``dry``: only its structure
    (zeros in place of the gradients); ``own``: ``output`` is the user's
    function's, not a derivative's."""
    value, aux = split_aux(output, where, stage.has_aux)
    symbols = _wrt(lowered, stage)
    wrt = [s for group in symbols for s in group]
    if _elementwise_map(program, value, wrt):
        # grad does not return the map's values, so its derivative need
        # not read them: it takes the forms that keep every digit in the
        # tails, as code on numbers does (4 * e / (e + 1) ** 2 for tanh',
        # where 1 - tanh(x) ** 2 is 0 from |x| = 19).
        flat = [sp.S.Zero if dry else tangents(
            program, [value], {symbol: sp.S.One}, (), where, tails=True)[0]
            for symbol in wrt]
    else:
        value = check_output(lowered, stage.has_aux, value, where, own)
        flat = ([sp.S.Zero] * len(wrt) if dry
                else _one_number(program, value, wrt, where)
                or gradients(program, value, wrt, where))
    grads: list[list[Any]] = []
    position = 0
    for group in symbols:
        grads.append(flat[position:position + len(group)])
        position += len(group)
    result = _per_argument(lowered, stage, grads)
    # Each gradient by its place in the result, not by identity: two
    # gradients may be one SymPy object (zeros, or ones), each shaped
    # and typed like its own argument.
    within = (1,) if stage.kind == "value_and_grad" else (
        (0,) if stage.has_aux else ())
    for path, symbol in zip(optree.tree_flatten_with_path(result)[0],
                            [s for group in symbols for s in group]):
        likes[within + path] = symbol
        labels[within + path] = f"grad_{symbol.name}"
    _as_computed(aux, labels)
    if stage.kind == "value_and_grad":
        value = _a_float(value)
        labels.setdefault(id(value), "value")
        return ((value, aux), result) if stage.has_aux else (value, result)
    return (result, aux) if stage.has_aux else result


def _a_float(value: Any) -> Any:
    """A differentiated value that is a whole number, as the float the
    function returns (``return 3.0``: lowering keeps its floats as exact
    numbers, and would write 3); any other value as it is."""
    return sp.Float(int(value)) if isinstance(value, sp.Integer) else value


def _as_computed(aux: Any, labels: dict[int, str]) -> None:
    """The aux leaves named as such, and returned as the function
    computed them (an index stays an integer), under every transform."""
    for leaf in optree.tree_leaves(aux):
        labels.setdefault(id(leaf), "aux")


def _not_a_number(program: Program, output: Any, stage: Stage,
                  where: str) -> bool:
    """Whether ``output`` (past its aux) is anything but one number: an
    array, or a tuple or dict of outputs."""
    value, _ = split_aux(output, where, stage.has_aux, allow_tuple=True)
    return not isinstance(value, sp.Expr) or program.shape(value) != ()


def _elementwise_map(program: Program, value: Any,
                     wrt: list[sp.Symbol]) -> bool:
    """Whether ``value`` is an array computed from ``wrt`` element by
    element (a loop over numbers, called with arrays): its gradient is
    then the derivative at each element, as at a number, not
    refused as a non-scalar output (a seed of 1 in forward mode)."""
    return isinstance(value, sp.Expr) and program.shape(value) != () and all(
        is_elementwise(step) for step in program.active_steps([value], wrt))


def _one_number(program: Program, value: sp.Expr, wrt: list[sp.Symbol],
                where: str) -> list[sp.Expr] | None:
    """The derivative with respect to one number of code with loops, in
    forward mode: its tangent is carried in the loops the code has, where
    reverse mode would store each iteration and add a loop run backwards
    (so the n-th derivative of a loop is one loop, not 2^n). None
    otherwise."""
    if len(wrt) != 1 or program.leaves[wrt[0]].shape or not any(
            step.option("loop") is not None for step in program.steps):
        return None
    return tangents(program, [value], {wrt[0]: sp.S.One}, (), where)


def _jacobian(program: Program, lowered: ArrayLowered, output: Any,
              stage: Stage, where: str, labels: dict[int, str],
              dry: bool = False,
              owners: dict[tuple, sp.Symbol] | None = None,
              row_dtypes: dict[tuple, np.dtype] | None = None,
              weak: frozenset[sp.Symbol] = frozenset()) -> Any:
    """``stage``'s Jacobian of ``output``; ``owners`` gets, in reverse
    mode, the argument leaf of each block, and ``row_dtypes``, in forward
    mode, the dtype of each block's output where it is known (JAX's
    jacfwd gives each block its output's dtype), by the block's path in
    the result; ``weak``: the argument leaves that are Python numbers,
    which NumPy 2 keeps weak."""
    value, aux = split_aux(output, where, stage.has_aux, allow_tuple=True)
    _as_computed(aux, labels)
    leaves, structure = optree.tree_flatten(value)
    for leaf in leaves:
        if not isinstance(leaf, sp.Expr):
            raise OutputError(f"{where} returns {leaf!r}, which is not a "
                              "number: a Jacobian needs numbers or arrays.")
    groups = _wrt(lowered, stage)
    wrt = [symbol for group in groups for symbol in group]
    # rows[k][j]: output leaf k by the j-th leaf of the arguments
    rows: list[list[sp.Expr] | None] = [[sp.S.Zero] * len(wrt) if dry
                                        else None for _ in leaves]
    if not dry and _in_reverse(program, leaves, wrt, stage):
        # Reverse mode costs a pass per output element, forward mode one
        # per argument element: an output with as many elements as the
        # arguments, or more (an elementwise map), takes forward mode.
        inputs = sum(int(np.prod(program.leaves[s].shape)) for s in wrt)
        rows = [reverse_jacobian(program, leaf, wrt, where)
                if int(np.prod(program.shape(leaf))) < inputs else None
                for leaf in leaves]
    # Forward mode for the rest: one pass per argument leaf, with the
    # identity over it as a batch of tangents.
    rest = [k for k, row in enumerate(rows) if row is None]
    for k in rest:
        rows[k] = []
    for symbol in wrt if rest else []:
        shape = program.leaves[symbol].shape
        columns = tangents(program, [leaves[k] for k in rest], {
            symbol: _identity(program, symbol, shape)}, shape, where,
            program.shape_of(symbol))
        for k, column in zip(rest, columns):
            rows[k].append(column)
    per_output = []
    for row in rows:
        blocks, position = [], 0
        for group in groups:
            blocks.append(row[position:position + len(group)])
            position += len(group)
        per_output.append(_per_argument(lowered, stage, blocks))
    result = optree.tree_unflatten(structure, per_output)
    if owners is not None and stage.mode != "forward":
        arguments = _per_argument(lowered, stage, groups)
        prefix = (0,) if stage.has_aux else ()
        owner_tree = optree.tree_unflatten(structure, [
            arguments for _ in leaves])
        paths, symbols, _ = optree.tree_flatten_with_path(owner_tree)
        owners.update({prefix + path: symbol
                       for path, symbol in zip(paths, symbols)})
    if row_dtypes is not None and stage.mode == "forward":
        prefix = (0,) if stage.has_aux else ()
        dtype_tree = optree.tree_unflatten(structure, [
            _per_argument(lowered, stage, [
                [computed_dtype(program, leaf, weak)] * len(group)
                for group in groups]) for leaf in leaves])
        paths, dtypes, _ = optree.tree_flatten_with_path(
            dtype_tree, none_is_leaf=True)
        row_dtypes.update({prefix + path: dtype
                           for path, dtype in zip(paths, dtypes)
                           if dtype is not None})
    return (result, aux) if stage.has_aux else result


def _weak(lowered: ArrayLowered, primals: tuple[Any, ...]
          ) -> frozenset[sp.Symbol]:
    """The argument leaves that are Python numbers (weak in NumPy 2:
    float32 times 2.0 is float32)."""
    return frozenset(
        symbol for layout, value in zip(lowered.arguments, primals)
        for symbol, leaf in zip(layout.symbols, optree.tree_leaves(value))
        if type(leaf) in (bool, int, float))


def _in_reverse(program: Program, leaves: list[Any], wrt: list[sp.Symbol],
                stage: Stage) -> bool:
    """Whether ``stage``'s Jacobian is taken in reverse mode: not for
    jacfwd and a Hessian; not with respect to numbers alone (forward mode
    pushes one tangent per number, no identity); not through a kept loop,
    which forward mode carries its tangents in."""
    if stage.mode == "forward":
        return False
    if all(not program.leaves[symbol].shape for symbol in wrt):
        return False
    return not has_loop(program, leaves, wrt)


def _identity(program: Program, symbol: sp.Symbol, shape: Shape) -> Any:
    """d symbol / d symbol: 1, ``np.eye(n)``, or the identity reshaped to
    ``shape + shape``."""
    if not shape:
        return sp.S.One
    size = int(np.prod(shape))
    rows = program.size(symbol, None)  # W.size, read when the code runs
    # In the argument's dtype: a float64 seed would make every tangent of
    # a float32 argument float64.
    eye = program.add(EYE, (), (size, size), "eye", rows=rows, columns=None,
                      k=None, dtype=float_dtype(program, symbol))
    if len(shape) == 1:
        return eye
    sizes = program.shape_of(symbol)
    return reshaped(program, eye, sizes + sizes, f"d_{symbol.name}")


def _jvp(program: Program, lowered: ArrayLowered, output: Any, stage: Stage,
         where: str, tangent_args: tuple[Any, ...], labels: dict[int, str],
         dry: bool = False) -> tuple[Any, list[str]]:
    value, aux = split_aux(output, where, stage.has_aux, allow_tuple=True)
    _as_computed(aux, labels)
    leaves, structure = optree.tree_flatten(value)
    leaves = [_a_float(leaf) for leaf in leaves]
    value = optree.tree_unflatten(structure, leaves)
    seeds: dict[sp.Symbol, sp.Expr] = {}
    names = []
    for layout, tangent in zip(lowered.arguments, tangent_args):
        name = f"{layout.name}_dot"
        program.reserve(name)
        names.append(name)
        tangent_layout, _ = _bind_argument(program, name, tangent,
                                           differentiable=False)
        if tangent_layout.spec != layout.spec:
            raise InputError(
                f"the tangent for {layout.name} has the structure "
                f"{tangent_layout.spec}, but the argument has "
                f"{layout.spec}: pass tangents shaped like the primals.")
        for symbol, seed in zip(layout.symbols, tangent_layout.symbols):
            if program.leaves[symbol].shape != program.leaves[seed].shape:
                raise InputError(
                    f"the tangent for {layout.name} has shape "
                    f"{program.leaves[seed].shape}, but the argument has "
                    f"shape {program.leaves[symbol].shape}: pass tangents "
                    "shaped like the primals.")
            if program.leaves[symbol].kind == "param":  # not an integer
                seeds[symbol] = seed
    for leaf in leaves:
        if not isinstance(leaf, sp.Expr):
            raise OutputError(f"{where} returns {leaf!r}, which is not a "
                              "number: jvp needs numbers or arrays.")
    columns = ([sp.S.Zero] * len(leaves) if dry
               else tangents(program, list(leaves), seeds, (), where))
    # Both as computed (no cast): the value is the function's own.
    for leaf in leaves:
        labels.setdefault(id(leaf), "value")
    for column in columns:
        labels.setdefault(id(column), "tangent")
    result = (value, optree.tree_unflatten(structure, columns))
    return (result + (aux,) if stage.has_aux else result), names


def defined_at(location: str) -> str:
    """How a docstring says where the differentiated function is: "is
    np.tanh" for a primitive, "is defined at demo.py:3" for the user's."""
    if location.startswith(("np.", "math.", "scipy.", "builtins.",
                            "operator.")):
        return f"is {location}"
    return f"is defined at {location}"


def describe(kind: str, base: str, wrt: tuple[str, ...]) -> str:
    """The first line of a generated function's docstring."""
    if kind == "jvp":
        tangents = ", ".join(f"{name}_dot" for name in wrt)
        along = tangents if len(wrt) == 1 else f"({tangents})"
        return f"Value of {base} and its derivative along {along}."
    return f"{_TITLES[kind]} of {base} with respect to {', '.join(wrt)}."

