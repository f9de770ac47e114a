"""Rows of the array table for ``np.einsum``, and the products that lower
to it: ``np.tensordot``, ``np.inner`` above one dimension, and ``@``/
``np.matmul``/``np.dot`` of arrays above two dimensions.

An einsum is linear in each operand, so each operand's gradient is one
more einsum: the others and the adjoint (in the operand's place), summed
to the operand's subscripts (``'ij,jk->ik'``: ``'ik,jk->ij'`` for the
first). What that einsum cannot write is added around it: a subscript
repeated in the operand (a diagonal) is a product with ``np.eye``; an axis
found nowhere else, or broadcast from size 1, is summed away and the
result broadcast back. A product that lowers to an einsum keeps its own
spelling (``np.tensordot(a, b, 2)``, ``a @ b``); only its gradients are
einsums. Gradients of two or more operands are written with
``optimize=True``, which hands contractions to BLAS (five to ten times
faster than the plain loop for 1000 x 1000 matrices).

In forward mode an einsum's tangent is the same einsum with a tangent in
an operand's place, one term per operand that has one; a batch of
tangents (a Jacobian's, a Hessian's) gets letters of its own at the end
of that operand's and the result's subscripts (``'ij,jkl->ikl'``).
``contract`` writes the einsums of forward rules (here and in
``_ops_decomp``/``_ops_linalg``): it contracts a Jacobian's seed, the
identity, away by hand, so that the Jacobian of ``a @ b`` reads
``einsum('il,jk->iklj', np.eye(n), b)`` and that of ``det`` is ``det *
inv(a).T``.
"""

from __future__ import annotations

import ast
import math
import string
from typing import Any, NamedTuple, Sequence

import sympy as sp

from ._ops_core import RESHAPE, TRANSPOSE, reshaped, transposed
from ._ops_create import EYE
from ._program import ArrayOp, Shape, Step
from ._spell import call, literal

__all__ = ["EINSUM", "TENSORDOT", "INNER", "Subscripts", "parse", "written",
           "einsum",
           "einsum_gradients", "contraction", "batch_letters", "contract",
           "identity_pairs"]


class SizeMismatch(ValueError):
    """A letter names axes of different lengths: the operands' shapes do
    not fit the subscripts (where other errors are the subscripts')."""


class Subscripts(NamedTuple):
    """An einsum's subscripts with ``...`` spelled out as letters."""

    inputs: tuple[str, ...]
    output: str
    sizes: dict[str, int]
    ellipsis: str  # the letters that stand for '...', outermost first


def parse(subscripts: str, shapes: Sequence[Shape]) -> Subscripts:
    """``subscripts`` for operands of ``shapes``, as NumPy reads them
    (implicit output: the letters used once, in alphabetical order);
    ValueError with NumPy's reason and the fix."""
    text = subscripts.replace(" ", "")
    explicit = "->" in text
    left, _, right = text.partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"np.einsum: the subscripts {subscripts!r} name "
                         f"{len(terms)} operand(s) but {len(shapes)} are "
                         "given: write one term per operand, separated by "
                         "commas")
    for term in terms + ([right] if explicit else []):
        bad = set(term.replace("...", "")) - set(string.ascii_letters)
        if bad or term.count("...") > 1:
            raise ValueError(f"np.einsum: invalid subscript "
                             f"{''.join(sorted(bad)) or '...'!r} in "
                             f"{subscripts!r}: use letters, and '...' at "
                             "most once per term")
    counts = []
    for index, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        count = len(shape) - named
        if count < 0 or (count > 0 and "..." not in term):
            raise ValueError(f"np.einsum: the term {term!r} names {named} "
                             f"axes but operand {index} has "
                             f"{len(shape)} (shape {shape}): write one "
                             "letter per axis, or '...' for the leading "
                             "ones")
        counts.append(count)
    used = set(left) | set(right)
    spare = [c for c in string.ascii_letters if c not in used]
    group = "".join(spare[:max(counts, default=0)])
    inputs = tuple(term.replace("...", group[len(group) - count:])
                   for term, count in zip(terms, counts))
    if explicit:
        if group and "..." not in right and any(counts):
            raise ValueError(f"np.einsum: {subscripts!r} has '...' in its "
                             "operands but not in its output: add '...' to "
                             "the output (after '->'), or sum those axes "
                             "with np.sum")
        output = right.replace("...", group)
        for letter in output:
            if output.count(letter) > 1 or letter not in "".join(inputs):
                raise ValueError(f"np.einsum: output subscript {letter!r} "
                                 f"in {subscripts!r} is repeated or not in "
                                 "any operand: name each output axis once, "
                                 "after the operands")
    else:
        joined = "".join(terms).replace("...", "")
        output = group + "".join(sorted(c for c in set(joined)
                                        if joined.count(c) == 1))
    sizes: dict[str, int] = {}
    for index, (term, shape) in enumerate(zip(inputs, shapes)):
        for letter, size in zip(term, shape):
            known = sizes.get(letter, 1)
            if size != known and 1 not in (size, known):
                raise SizeMismatch(
                    f"np.einsum: the subscript {letter!r} has size {size} "
                    f"in operand {index} but {known} in an earlier one "
                    f"(shapes {', '.join(str(tuple(s)) for s in shapes)}), "
                    "where a letter names axes of one length")
            sizes[letter] = max(size, known)
    return Subscripts(inputs, output, sizes, group)


def written(inputs: Sequence[str], output: str, ellipsis: str) -> str:
    """Subscripts as a person writes them: the letters of ``...`` as
    ``...`` where every term that has any of them has them all."""
    terms = list(inputs) + [output]
    if ellipsis and ellipsis in output and all(
            ellipsis in t or not set(t) & set(ellipsis) for t in terms):
        terms = [t.replace(ellipsis, "...") for t in terms]
    return ",".join(terms[:-1]) + "->" + terms[-1]


def einsum(program: Any, subscripts: str, operands: Sequence[sp.Symbol],
           name: str, **spelling: Any) -> sp.Symbol:
    """The step ``np.einsum(subscripts, *operands)``; ``spelling``: how
    the user wrote it when that is another call (``call='@'``)."""
    parsed = parse(subscripts, [program.leaves[o].shape for o in operands])
    shape = tuple(parsed.sizes[c] for c in parsed.output)
    return program.add(EINSUM, tuple(operands), shape, name,
                       subscripts=subscripts, **spelling)


def contract(program: Any, subscripts: str, operands: Sequence[sp.Symbol],
             name: str, **spelling: Any) -> sp.Symbol:
    """``np.einsum(subscripts, *operands)`` for a tangent, with the
    identities in it (a Jacobian's seed: ``np.eye(n)``, reshaped to
    ``S + S`` or transposed) contracted by hand, as a person would: each
    of its deltas renames one letter to the other or, where both name
    axes of the result, stays a factor ``np.eye(n)``; a single operand
    left is transposed (``inv_a.T`` for ``'ji,ijkl->kl'`` with the
    identity)."""
    parsed = parse(subscripts, [program.leaves[o].shape for o in operands])
    entries = [(term, operand, identity_pairs(program, operand))
               for term, operand in zip(parsed.inputs, operands)]
    folded = _fold(program, entries, parsed.output) if any(
        pairs for _, _, pairs in entries) else None
    if folded is None:
        return einsum(program, subscripts, operands, name, **spelling)
    factors, output = folded
    if len(factors) == 1:
        term, operand = factors[0]
        kept = len(set(term)) == len(term) and sorted(term) == sorted(output)
        if kept and _is_eye(program, operand):
            return operand  # an eye transposed is itself
        if kept:
            return transposed(program, operand, tuple(
                term.index(c) for c in output), name)
    if len(factors) != len(operands):
        spelling = {**spelling, "optimize": True if len(factors) > 2
                    else None}
    # '...' where it stands for the same axes of each operand; an eye of
    # an axis among them is clearer with every letter written out.
    ellipsis = parsed.ellipsis
    if any(_is_eye(program, o) and set(t) & set(ellipsis)
           for t, o in factors):
        ellipsis = ""
    return einsum(program, written([t for t, _ in factors], output,
                                   ellipsis),
                  [o for _, o in factors], name, **spelling)


def _fold(program: Any, entries: list[tuple[str, sp.Symbol, Any]],
          output: str) -> tuple[list[tuple[str, Any]], str] | None:
    """The factors (an identity's eyes in its place) and ``output`` with
    the identities' deltas applied (see ``contract``); None where that
    would not be an einsum."""
    alias: dict[str, str] = {}

    def find(letter: str) -> str:
        while letter in alias:
            letter = alias[letter]
        return letter

    factors = [(t, o) for t, o, pairs in entries if pairs is None]
    placed: list[list[tuple[str, sp.Symbol]]] = []
    eyes: list[tuple[str, sp.Symbol]] = []
    for term, operand, pairs in entries:
        if pairs is None:
            placed.append([(term, operand)])
            continue
        own: list[tuple[str, sp.Symbol]] = []
        for first, second in pairs:
            a, b = find(term[first]), find(term[second])
            if a == b:
                return None  # a delta on its own diagonal
            result = {find(c) for c in output}
            elsewhere = {find(c) for t, _ in factors + eyes + own
                         for c in t}
            if a in elsewhere and not (a in result and b in result):
                alias[b] = a
            elif b in elsewhere and not (a in result and b in result):
                alias[a] = b
            else:  # the delta is what carries these axes
                size = program.leaves[operand].shape[first]
                eye = program.add(EYE, (), (size, size), "eye",
                                  rows=_identity_size(program, operand,
                                                      first),
                                  columns=None, k=None,
                                  dtype=_identity_dtype(program, operand))
                own.append((a + b, eye))
        eyes.extend(own)
        placed.append(own)
    factors = [("".join(find(c) for c in t), o)
               for group in placed for t, o in group]
    output = "".join(find(c) for c in output)
    if not factors or not set(output) <= set("".join(t for t, _ in factors)):
        return None
    return factors, output


def _identity_size(program: Any, identity: sp.Symbol, axis: int) -> Any:
    """The size of an identity's ``axis``, as generated code reads it
    (``np.eye(n)``'s n, not ``np.eye(n).shape[0]``)."""
    step = program.definition().get(identity)
    if step is not None and step.op is TRANSPOSE:
        ndim = len(program.leaves[identity].shape)
        axis = (step.option("axes") or tuple(reversed(range(ndim))))[axis]
        identity = step.operands[0]
        step = program.definition().get(identity)
    if step is not None and step.op is EYE:
        return step.option("rows")
    return program.size(identity, axis)


def _identity_dtype(program: Any, identity: sp.Symbol) -> str | None:
    """The dtype its ``np.eye`` was made with (a float32 argument's seed
    is float32): the eye of one of its axes is made with it too."""
    definition = program.definition()
    step = definition.get(identity)
    while step is not None and step.op in (TRANSPOSE, RESHAPE):
        step = definition.get(step.operands[0])
    return step.option("dtype") if step is not None and step.op is EYE \
        else None


def identity_pairs(program: Any, symbol: sp.Symbol
                    ) -> list[tuple[int, int]] | None:
    """Where ``symbol`` is an identity (``np.eye(n)``, or it reshaped to
    ``S + S``, or either transposed): the pairs of its axes whose indices
    must be equal; else None."""
    definition = program.definition()
    step = definition.get(symbol)
    order = None
    if step is not None and step.op is TRANSPOSE:
        ndim = len(program.leaves[symbol].shape)
        order = step.option("axes") or tuple(reversed(range(ndim)))
        step = definition.get(step.operands[0])
    if step is None:
        return None
    shape = program.leaves[step.target].shape
    if step.op is RESHAPE:
        step = definition.get(step.operands[0])
    if step is None or step.op is not EYE or step.option("k") or \
            step.option("columns") is not None:
        return None
    rank = len(shape) // 2
    if len(shape) != 2 * rank or shape[:rank] != shape[rank:] or \
            program.leaves[step.target].shape[0] != math.prod(shape[:rank]):
        return None
    pairs = [(i, rank + i) for i in range(rank)]
    if order is not None:
        pairs = [(order.index(i), order.index(j)) for i, j in pairs]
    return pairs


def _lower_einsum(run: Any, subscripts: Any, *operands: Any,
                  optimize: Any = False, node: ast.AST) -> Any:
    if not isinstance(subscripts, str):
        raise run.error(node, "np.einsum's subscripts must be a constant "
                              "string such as 'ij,jk->ik' (the form with "
                              "lists of axis numbers is not supported): "
                              "write the letters")
    if not operands:
        raise run.error(node, "np.einsum needs at least one operand")
    if optimize in (sp.true, sp.false):
        optimize = bool(optimize)
    if not isinstance(optimize, (bool, str)):
        raise run.error(node, "np.einsum's optimize must be a constant: "
                              "True, False, 'greedy' or 'optimal'")
    symbols = [run.materialize(run.number(o, node), node) for o in operands]
    try:
        return einsum(run.program, subscripts, symbols, "einsum",
                      optimize=optimize or None)
    except SizeMismatch as exc:
        raise run.shape_error(node, str(exc)) from None
    except ValueError as exc:
        raise run.error(node, str(exc)) from None


def _einsum_vjp(backward: Any, step: Step, adjoint: sp.Expr) -> None:
    program = backward.program
    if program.shape(adjoint) != ():
        adjoint = backward.full(adjoint, program.leaves[step.target].shape,
                                f"d_{step.target.name}")
    einsum_gradients(backward, step.option("subscripts"), step.operands,
                     adjoint, step.option("optimize"))


def einsum_gradients(backward: Any, subscripts: str,
                     operands: Sequence[sp.Symbol], adjoint: sp.Expr,
                     optimize: Any = None) -> None:
    """Contributions of ``adjoint`` through ``np.einsum(subscripts,
    *operands)`` to each active operand; ``adjoint`` is an array of the
    result's shape, or one number for every element (the einsum's sum: a
    factor of each gradient, not an array of copies to contract)."""
    program = backward.program
    shapes = [program.leaves[o].shape for o in operands]
    parsed = parse(subscripts, shapes)
    uniform = program.shape(adjoint) == ()
    adjoint_term = [] if uniform else [(parsed.output, adjoint)]
    for position, operand in enumerate(operands):
        if operand not in backward.active:
            continue
        terms = [(t, o) for i, (t, o) in enumerate(zip(parsed.inputs,
                                                      operands))
                 if i != position]
        terms[position:position] = adjoint_term
        gradient = _operand_gradient(program, parsed, terms, position,
                                     shapes[position], operand, optimize)
        backward.contribute(operand, (adjoint if uniform else 1) * gradient,
                            shapes[position])


def _operand_gradient(program: Any, parsed: Subscripts,
                      terms: list[tuple[str, sp.Symbol]], position: int,
                      shape: Shape, operand: sp.Symbol,
                      optimize: Any) -> sp.Expr:
    """The contraction of ``terms`` to the letters of operand
    ``position``: where it cannot name an axis (summed from size 1, or
    found in no other term) the axis is left as 1, to broadcast."""
    taken = set("".join(parsed.inputs)) | set(parsed.output)
    spare = iter(c for c in string.ascii_letters if c not in taken)
    term = ""
    for axis, letter in enumerate(parsed.inputs[position]):
        if letter in term:  # a diagonal: eye(n)[i, j] picks i == j
            fresh = next(spare)
            n = parsed.sizes[letter]
            first = parsed.inputs[position].index(letter)  # its first axis
            rows = program.size(operand, first) if shape[first] == n else n
            eye = program.add(EYE, (), (n, n), "eye", rows=rows,
                              columns=None, k=None, dtype=None)
            terms.append((letter + fresh, eye))
            letter = fresh
        term += letter
    available = set("".join(t for t, _ in terms))
    kept = [axis for axis, letter in enumerate(term)
            if letter in available and not (
                shape[axis] == 1 and parsed.sizes.get(letter, 1) != 1)]
    output = "".join(term[axis] for axis in kept)
    if not terms:
        return sp.S.One
    if len(terms) == 1 and terms[0][0] == output:
        result = terms[0][1]
    else:
        count = sum(1 for _, symbol in terms if _is_eye(program, symbol))
        subscripts = written([t for t, _ in terms], output, parsed.ellipsis)
        spelling = {"optimize": True} if len(terms) - count > 1 else {
            "optimize": optimize}
        result = einsum(program, subscripts, [s for _, s in terms],
                        f"d_{operand.name}", **spelling)
    # Axes left out at the front broadcast back as they are.
    if kept != list(range(len(shape) - len(kept), len(shape))):
        result = reshaped(program, result, tuple(
            shape[i] if i in kept else 1 for i in range(len(shape))),
            f"d_{operand.name}_kept")
    return result


def _is_eye(program: Any, symbol: sp.Symbol) -> bool:
    step = program.definition().get(symbol)
    return step is not None and step.op is EYE


def _spell_einsum(step: Step, args: list[ast.expr], name: str) -> ast.expr:
    spelled = step.option("call")
    if spelled == "@":
        return ast.BinOp(args[0], ast.MatMult(), args[1])
    if spelled == ".dot":
        return ast.Call(ast.Attribute(args[0], "dot", ast.Load()),
                        [args[1]], [])
    if spelled in ("np.matmul", "np.dot", "np.inner"):
        return call(spelled, args)
    if spelled == "np.tensordot":
        return call(spelled, args + [literal(step.option("axes"))])
    return call("np.einsum", [ast.Constant(step.option("subscripts"))]
                + args, optimize=step.option("optimize"))


def batch_letters(count: int, taken: Sequence[str]) -> str:
    """``count`` letters for a tangent's batch axes, found in none of the
    terms ``taken``: those after the last letter used (``'ij,jk->ik'``
    gets ``'l'``), as a person continues the alphabet."""
    used = set("".join(taken))
    lower = string.ascii_lowercase
    start = max((lower.index(c) + 1 for c in used if c in lower), default=0)
    order = lower[start:] + lower[:start] + string.ascii_uppercase
    return "".join([c for c in order if c not in used][:count])


def _einsum_jvp(forward: Any, step: Step) -> sp.Expr:
    """Linear in each operand: the sum, over the operands with a tangent,
    of the einsum with the tangent in the operand's place. Without a batch
    that is the same call (``a @ tangent_b``); a batch's axes get letters
    of their own, after the operand's and the result's axes."""
    program = forward.program
    operands = step.operands
    parsed = parse(step.option("subscripts"),
                   [forward.shape(o) for o in operands])
    batch = batch_letters(len(forward.batch),
                          parsed.inputs + (parsed.output,))
    name = f"{step.target.name}_tangent"
    terms = []
    for position, operand in enumerate(operands):
        if operand not in forward.tangent:
            continue
        replaced = list(operands)
        replaced[position] = forward.full_tangent(operand)
        if not batch:
            terms.append(program.add(EINSUM, tuple(replaced),
                                     forward.shape(step.target), name,
                                     **dict(step.options)))
            continue
        inputs = list(parsed.inputs)
        inputs[position] += batch
        subscripts = written(inputs, parsed.output + batch,
                             parsed.ellipsis)
        terms.append(contract(program, subscripts, replaced, name,
                              optimize=True if len(operands) > 2
                              else step.option("optimize")))
    return sp.Add(*terms)


EINSUM = ArrayOp("einsum", numpy=("einsum",), lower=_lower_einsum,
                 vjp=_einsum_vjp, jvp=_einsum_jvp, spell=_spell_einsum,
                 any_size=True)


# -- products written as einsums ----------------------------------------------

def contraction(run: Any, a: sp.Symbol, b: sp.Symbol,
                axes_a: Sequence[int], axes_b: Sequence[int],
                node: ast.AST, **spelling: Any) -> sp.Symbol:
    """``a`` times ``b`` summed over the pairs ``axes_a``/``axes_b``, the
    remaining axes of ``a`` then those of ``b`` (np.tensordot's order)."""
    sa, sb = run.program.leaves[a].shape, run.program.leaves[b].shape
    for i, j in zip(axes_a, axes_b):
        if sa[i] != sb[j]:
            raise run.shape_error(
                node, f"shape-mismatch for sum: axis {i} of {sa} has "
                f"{sa[i]} elements but axis {j} of {sb} has {sb[j]}")
    letters = iter(string.ascii_lowercase)
    first = [next(letters) for _ in sa]
    second = [next(letters) for _ in sb]
    for i, j in zip(axes_a, axes_b):
        second[j] = first[i]
    output = ([c for i, c in enumerate(first) if i not in axes_a]
              + [c for j, c in enumerate(second) if j not in axes_b])
    subscripts = f"{''.join(first)},{''.join(second)}->{''.join(output)}"
    name = f"{_spelling_name(spelling)}_{a.name}_{b.name}"
    return einsum(run.program, subscripts, (a, b), name, **spelling)


def _spelling_name(spelling: dict[str, Any]) -> str:
    called = spelling.get("call") or "einsum"
    return {"@": "matmul", ".dot": "dot"}.get(
        called, called.replace("np.", ""))


def _lower_tensordot(run: Any, a: Any, b: Any, axes: Any = 2, *,
                     node: ast.AST) -> Any:
    first = run.materialize(run.number(a, node), node, "a")
    second = run.materialize(run.number(b, node), node, "b")
    sa, sb = run.shape(first, node), run.shape(second, node)
    if isinstance(axes, (tuple, list)) and len(axes) == 2:
        pair = [run.integers(side, node, "np.tensordot's axes")
                for side in axes]
        if len(pair[0]) != len(pair[1]):
            raise run.shape_error(
                node, "np.tensordot: shape-mismatch for sum: the two lists "
                "of axes must have the same length")
        axes_a = [run.axis(i, len(sa), node) for i in pair[0]]
        axes_b = [run.axis(j, len(sb), node) for j in pair[1]]
        spelled_axes: Any = tuple(tuple(side) for side in pair)
    else:
        n = run.integer(axes, node, "np.tensordot's axes")
        if not 0 <= n <= min(len(sa), len(sb)):
            raise run.error(node, f"np.tensordot: axes={n} sums more axes "
                                  f"than the operands have (shapes {sa} and "
                                  f"{sb})")
        axes_a = list(range(len(sa) - n, len(sa)))
        axes_b = list(range(n))
        spelled_axes = n
    return contraction(run, first, second, axes_a, axes_b, node,
                       call="np.tensordot", axes=spelled_axes)


def _lower_inner(run: Any, a: Any, b: Any, *, node: ast.AST) -> Any:
    from ._ops_linalg import product  # it imports this module
    left, right = run.number(a, node), run.number(b, node)
    sa, sb = run.shape(left, node), run.shape(right, node)
    if not sa or not sb:
        return run.checked(left * right, node)
    if len(sa) <= 2 and len(sb) == 1:
        return product(run, left, right, node, "np.dot")
    if len(sa) == 1 and len(sb) == 2:
        return product(run, right, left, node, "np.dot")
    first = run.materialize(left, node, "a")
    second = run.materialize(right, node, "b")
    return contraction(run, first, second, [len(sa) - 1], [len(sb) - 1],
                       node, call="np.inner")


TENSORDOT = ArrayOp("tensordot", numpy=("tensordot",),
                    lower=_lower_tensordot)
INNER = ArrayOp("inner", numpy=("inner",), lower=_lower_inner)
