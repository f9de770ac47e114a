"""Bad input gives an autodiff_ast error at the user's own file and line."""

from __future__ import annotations

import functools
import os
import pathlib
import re
import subprocess
import sys
import traceback

import numpy as np
import pytest

import autodiff_ast as ad
import bad_code

BAD_FILE = pathlib.Path(bad_code.__file__)
# as messages name it: relative to the folder the tests run in
BAD_SHOWN = os.path.relpath(BAD_FILE)


def marked_line(marker: str) -> int:
    """The line of bad_code.py carrying `# refused: <marker>`."""
    for number, text in enumerate(BAD_FILE.read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# refused: {marker}"):
            return number
    raise AssertionError(f"no marker {marker}")


CASES = [
    (bad_code.with_try, "try",
     "try/except is not supported: a derivative cannot follow an exception; "
     "compute the value without it, or use np.where"),
    (bad_code.with_logging, "logging",
     "expression statements are not supported: a call made for its side "
     "effect (logging, mutation) cannot be differentiated; remove it (print() "
     "is left out of derivatives)"),
    (bad_code.with_global, "global",
     "global statements are not supported: a differentiated function must "
     "not change module state; return the value instead"),
    (bad_code.with_comprehension, "comprehension",
     "a comprehension runs over range(), a list, a tuple, a dict or the "
     "rows of an array"),
    (bad_code.with_string, "string",
     "the string '2.5' is used as a number: a differentiated function "
     "computes with numbers (strings may be dict keys and has_aux values)"),
    (bad_code.with_mutation, "mutation",
     "assigning to an item of state mutates an object the function did not "
     "make, which cannot be differentiated: assign to a new local name "
     "instead, or fill an array made here (d = np.zeros_like(x); d[i] = v)"),
    (bad_code.with_unknown_callable, "unknown",
     "np.random.normal draws random numbers, which have no derivative (and "
     "would differ between the value and the gradient): draw them outside "
     "the function and pass them in as an argument"),
    (bad_code.recursive, "recursion",
     "recursive call to recursive: autodiff_ast inlines the functions it "
     "calls, so recursion cannot be followed; rewrite it as a loop over "
     "range()"),
    (bad_code.with_huge_loop, "huge-loop",
     "this loop unrolls into more than 10000 statements, too many to "
     "differentiate symbolically: use fewer iterations, or a closed form of "
     "the sum"),
    (bad_code.log_of_negative_constant, "complex",
     "this gives a complex or undefined value for constant operands (such "
     "as log of a negative number, or division by zero, or inf - inf)"),
    (bad_code.calls_bad_helper, "try",
     "try/except is not supported: a derivative cannot follow an exception; "
     "compute the value without it, or use np.where"),
    (bad_code.no_return_on_some_path, "no-return",
     "no_return_on_some_path does not return a value on every path: end "
     "each path with a return statement"),
    (bad_code.with_attribute_of_value, "attribute",
     "the attribute .real is not supported: a differentiated value has .T, "
     ".shape, .ndim, .size and the methods .all(), .any(), .argmax(), "
     ".argmin(), .argsort(), .astype(), .clip(), .copy(), .cumprod(), .cumsum(), "
     ".diagonal(), .dot(), .flatten(), .item(), .max(), .mean(), .min(), .prod(), "
     ".ravel(), .repeat(), .reshape(), .round(), "
     ".squeeze(), .std(), .sum(), .swapaxes(), .take(), .trace(), "
     ".transpose(), .var()"),
]


@pytest.mark.parametrize("function, marker, message", CASES,
                         ids=[c[1] + "-" + c[0].__name__ for c in CASES])
def test_unsupported_code_points_at_the_users_line(function, marker, message):
    with pytest.raises(ad.UnsupportedCodeError) as info:
        # Code that may use arrays is lowered when called, for its inputs.
        ad.grad(function)(0.7)
    error = info.value
    assert error.msg == message
    assert error.filename == str(BAD_FILE)
    assert error.lineno == marked_line(marker)
    assert str(error) == f"{message} ({BAD_FILE}:{marked_line(marker)})"
    assert isinstance(error, ad.AutodiffError)
    assert isinstance(error, SyntaxError)


def test_traceback_shows_the_line_with_a_caret():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(bad_code.with_try)
    rendered = "".join(traceback.format_exception_only(info.value))
    assert f'File "{BAD_FILE}", line {marked_line("try")}' in rendered
    assert "    try:  # refused: try\n" in rendered
    assert re.search(r"\n +\^+\n", rendered)


def test_tuple_output_needs_has_aux():
    with pytest.raises(ad.OutputError) as info:
        ad.grad(bad_code.returns_a_pair)
    assert str(info.value) == (
        f"returns_a_pair ({BAD_SHOWN}:{marked_line('pair')}) returns a tuple "
        "of 2 values, but grad needs a single scalar output. If the other "
        "values are auxiliary data, return `value, aux` and pass "
        "has_aux=True.")


def test_has_aux_needs_a_pair():
    with pytest.raises(ad.OutputError, match=r"has_aux=True requires .* "
                       r"to return a pair \(value, aux\), but it returns a "
                       r"single value"):
        ad.grad(np.sin, has_aux=True)


def test_function_without_source():
    namespace: dict = {}
    exec("def f(x):\n    return x * 2\n", namespace)
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(namespace["f"])
    assert str(info.value) == (
        "cannot read the source of f: it was defined in '<string>' (python "
        "-c, exec or the plain Python prompt), where Python keeps no source. "
        "Define it in a .py file and import it, or in an IPython or Jupyter "
        "cell: autodiff_ast reads both.")


def test_exec_in_a_process_that_keeps_its_dash_c_program(monkeypatch):
    # Python 3.13 keeps `python -c`'s program as '<string>' (a pytest-xdist
    # worker's): a function exec'd there found that text and was refused
    # as "edited after it was imported".
    import linecache
    program = "import sys\nprint(sys.argv)\n"
    monkeypatch.setitem(linecache.cache, "<string>", (
        len(program), None, program.splitlines(True), "<string>"))
    namespace: dict = {}
    exec("def f(x):\n    return x * 2\n", namespace)
    with pytest.raises(ad.NoSourceError, match=r"^cannot read the source of "
                       r"f: it was defined in '<string>'"):
        ad.grad(namespace["f"])


def test_python_dash_c_says_where_source_is_kept():
    program = ("import autodiff_ast as ad\n"
               "try:\n"
               "    print(ad.grad(lambda x: x * x)(3.0))\n"
               "except ad.NoSourceError as error:\n"
               "    print(error)\n")
    result = subprocess.run([sys.executable, "-c", program],
                            capture_output=True, text=True, check=True)
    if sys.version_info >= (3, 13):
        assert result.stdout == "6.0\n"  # python -c keeps its source
    else:
        assert result.stdout == (
            "cannot read the source of <lambda>: it was defined in "
            "'<string>' (python -c, exec or the plain Python prompt), where "
            "Python keeps no source. Define it in a .py file and import it, "
            "or in an IPython or Jupyter cell: autodiff_ast reads both.\n")


def test_builtin_outside_the_table():
    with pytest.raises(ad.NoSourceError, match=r"cannot differentiate "
                       r"<built-in function len>: it is neither a Python "
                       r"function nor a primitive"):
        ad.grad(len)


def test_complex_derivative_is_refused():
    with pytest.raises(ad.OutputError) as info:
        ad.grad(bad_code.negative_base_power)
    assert str(info.value) == (
        f"the derivative of negative_base_power ({BAD_SHOWN}:"
        f"{marked_line('complex-derivative')}) with respect to x is complex "
        "(a constant base raised to the argument's power takes the log of a "
        "negative number?).")


GLOBAL_LAYER = (2.0 * np.eye(3), np.ones(3))


def reads_a_tuple_of_arrays(x):
    return np.sum(np.tanh(GLOBAL_LAYER[0] @ x + GLOBAL_LAYER[1]))


def test_a_tuple_of_arrays_read_from_outside_is_read_by_name():
    # It was read as a constant tuple, and refused inside as "an array of
    # shape (3, 3) ... is not a number"; then refused as a tuple of arrays.
    x = np.array([0.1, -0.2, 0.3])
    weights, bias = GLOBAL_LAYER
    np.testing.assert_allclose(
        ad.grad(reads_a_tuple_of_arrays)(x),
        weights.T @ (1 - np.tanh(weights @ x + bias) ** 2), rtol=1e-14)


@pytest.mark.parametrize("make, function, marker, message", [
    (ad.grad, bad_code.pair_by_a_list, "list-pair",
     "{where} returns a tuple of 2 values, but grad needs a single scalar "
     "output. If the other values are auxiliary data, return `value, aux` "
     "and pass has_aux=True."),
    (ad.value_and_grad, bad_code.condition_by_a_list, "list-condition",
     "{where} returns a bool, x > 0, which is not a number: grad needs a "
     "scalar output. With has_aux=True, return (value, aux)."),
    (functools.partial(ad.grad, has_aux=True), bad_code.square_by_a_list,
     "list-single", "has_aux=True requires {where} to return a pair (value, "
     "aux), but it returns a single value. Return `value, aux`, or drop "
     "has_aux.")], ids=["tuple", "condition", "single_with_aux"])
def test_array_code_refuses_an_output_grad_cannot_take_when_made(
        make, function, marker, message):
    # Array code refused these at the first call; scalar code refuses
    # them when the derivative is made, and now array code does too.
    with pytest.raises(ad.OutputError) as info:
        make(function)
    where = (f"{function.__name__} ({os.path.relpath(BAD_FILE)}:"
             f"{marked_line(marker)})")
    assert str(info.value) == message.format(where=where)


def test_array_code_that_does_not_take_numbers_refuses_at_the_call():
    # W @ x needs arrays: the output is seen when the call gives them.
    gradient = ad.grad(bad_code.pair_of_a_product)
    with pytest.raises(ad.OutputError) as info:
        gradient(np.eye(2), np.ones(2))
    assert str(info.value) == (
        f"pair_of_a_product ({os.path.relpath(BAD_FILE)}:"
        f"{marked_line('product-pair')}) returns a tuple of 2 values, but "
        "grad needs a single scalar output. If the other values are "
        "auxiliary data, return `value, aux` and pass has_aux=True.")
