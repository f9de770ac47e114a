"""The hostile corpus: every case either raises the designed autodiff_ast
error at the right file and line, or works and gives the right value.
None leaks an internal exception (RecursionError, KeyError, a SymPy error),
none hangs, none returns a wrong value."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import time

import numpy as np
import pytest

import autodiff_ast as ad
import hostile_code as h

FILE = pathlib.Path(h.__file__)


def marked_line(marker: str) -> int:
    for number, text in enumerate(FILE.read_text().splitlines(), 1):
        if f"# hostile: {marker}" in text:
            return number
    raise AssertionError(f"no marker {marker}")


# name -> (function, call arguments, error class, message start)
REFUSED = {
    "generator": (h.generator, (2.0,), ad.UnsupportedCodeError,
                  "generators are not supported: return a single value"),
    "async": (h.coroutine, (2.0,), ad.UnsupportedCodeError,
              "async functions are not supported"),
    "try": (h.try_except, (2.0,), ad.UnsupportedCodeError,
            "try/except is not supported"),
    "with": (h.with_block, (2.0,), ad.UnsupportedCodeError,
             "with-blocks are not supported"),
    "global": (h.global_statement, (2.0,), ad.UnsupportedCodeError,
               "global statements are not supported"),
    "nonlocal": (h.nonlocal_statement, (2.0,), ad.UnsupportedCodeError,
                 "nonlocal statements are not supported"),
    "item-mutation": (h.item_mutation, (2.0,), ad.UnsupportedCodeError,
                      "assigning to an item of x mutates an object the "
                      "function did not make"),
    "attribute-mutation": (h.attribute_mutation, (2.0,),
                           ad.UnsupportedCodeError,
                           "assigning to an attribute or an item mutates"),
    "side-effect": (h.side_effect, (2.0,), ad.UnsupportedCodeError,
                    "expression statements are not supported"),
    "recursion": (h.recursive, (2.0,), ad.UnsupportedCodeError,
                  "recursive call to recursive"),
    "mutual-recursion": (h.ping, (2.0,), ad.UnsupportedCodeError,
                         "recursive call to ping"),
    "kwargs": (h.kwargs, (2.0,), ad.UnsupportedCodeError,
               "kwargs takes **options, which is not supported: name each "
               "keyword argument, or take a dict (options) as a positional "
               "argument"),
    "keyword-only": (h.keyword_only, (2.0,), ad.UnsupportedCodeError,
                     "keyword_only has a keyword-only argument without a "
                     "default after arguments with defaults"),
    "comprehension-of-a-set": (
        h.set_comprehension, (2.0,), ad.UnsupportedCodeError,
        "set comprehensions are not supported: a set has no order; use a "
        "list comprehension"),
    "unknown": (h.unknown_callable, (2.0,), ad.UnsupportedCodeError,
                "np.random.normal draws random numbers, which have no "
                "derivative (and would differ between the value and the "
                "gradient): draw them outside the function and pass them in "
                "as an argument"),
    "rng": (h.random_generator, (np.ones(3),), ad.UnsupportedCodeError,
            "RNG.normal draws random numbers"),
    "unique": (h.unique_values, (np.ones(3),), ad.UnsupportedCodeError,
               "np.unique gives an array whose size depends on the values, "
               "which a derivative cannot have (its shapes follow from the "
               "inputs' shapes): compute it outside the function and pass it "
               "in, or keep the shape with np.where(condition, x, 0)"),
    "sort-in-place": (h.sort_in_place, (np.ones(3),),
                      ad.UnsupportedCodeError,
                      "expression statements are not supported: a call made "
                      "for its side effect (logging, mutation)"),
    "fill": (h.fill_in_place, (np.ones(3),), ad.UnsupportedCodeError,
             "W.fill() changes the array in place, which cannot be "
             "differentiated: build a new array instead (np.where, "
             "np.concatenate, np.full_like)"),
    "factorial": (h.c_function_outside_the_table, (2.0,),
                  ad.UnsupportedCodeError,
                  "math.factorial() takes integers known when the function "
                  "is differentiated"),
    "open": (h.builtin_io, (2.0,), ad.UnsupportedCodeError,
             "cannot differentiate through open"),
    "string": (h.string_literal, (2.0,), ad.UnsupportedCodeError,
               "the string 'x' is used as a number: a differentiated "
               "function computes with numbers (strings may be dict keys "
               "and has_aux values)"),
    "bytes": (h.bytes_literal, (2.0,), ad.UnsupportedCodeError,
              "bytes literals are not supported"),
    "complex": (h.complex_literal, (2.0,), ad.UnsupportedCodeError,
                "complex literals are not supported"),
    "fstring": (h.f_string, (2.0,), ad.UnsupportedCodeError,
                "f-strings are not supported"),
    "walrus": (h.walrus, (2.0,), ad.UnsupportedCodeError,
               "assignment expressions (:=) are not supported"),
    "del": (h.delete, (2.0,), ad.UnsupportedCodeError,
            "del is not supported"),
    "assert": (h.assertion, (2.0,), ad.UnsupportedCodeError,
               "assert on values computed from the arguments is not "
               "supported"),
    "raise": (h.raising, (2.0,), ad.UnsupportedCodeError,
              "raise is not supported"),
    "import": (h.local_import, (2.0,), ad.UnsupportedCodeError,
               "import inside the function is not supported"),
    "is": (h.identity_comparison, (2.0,), ad.UnsupportedCodeError,
           "`is` compares a value computed from the arguments with another "
           "value, which is decided only when the code runs: compare "
           "numbers with == or !=, or compare with None"),
    "set": (h.set_literal, (2.0,), ad.UnsupportedCodeError,
            "sets are not supported"),
    "bare-return": (h.bare_return, (2.0,), ad.UnsupportedCodeError,
                    "return without a value"),
    "no-return": (h.no_return, (2.0,), ad.UnsupportedCodeError,
                  "no_return does not return a value on every path"),
    "computed-index": (h.computed_index, (np.ones(3), 1.0),
                       ad.UnsupportedCodeError,
                       "int() of a value computed from the arguments has "
                       "no derivative"),
    # (it takes a number: the array is what does not fit)
    "array-if": (h.array_condition, (np.ones(3),), ad.InputError,
                 "array_condition ("),
    "broadcast": (h.shape_mismatch, (np.ones(3), np.ones(2)),
                  ad.ShapeError,
                  "operands could not be broadcast together"),
    "huge-loop": (h.huge_loop, (2.0,), ad.UnsupportedCodeError,
                  "this loop unrolls into more than 10000 statements"),
    "len-scalar": (h.len_of_scalar, (2.0,), ad.UnsupportedCodeError,
                   "len() of a scalar"),
    "mask": (h.boolean_mask_kept, (np.ones(3),), ad.UnsupportedCodeError,
             "W[W > 0] selects elements by a mask computed from the data, as "
             "many as the data says, which cannot be an array of a "
             "derivative: here np.cumsum() takes it."),
    "reshape-nothing": (h.reshape_without_shape, (np.ones(3),),
                        ad.UnsupportedCodeError,
                        "reshape needs the new shape"),
    "dot-out": (h.dot_with_out, (np.ones(3),), ad.UnsupportedCodeError,
                "np.dot() is called with arguments autodiff_ast does not "
                "support here: too many arguments"),
    "sum-dtype": (h.sum_with_dtype, (np.ones(3),), ad.UnsupportedCodeError,
                  "np.sum's dtype must be a float type here (np.float32, "
                  "np.float64): cast integers with .astype"),
    "decorated": (h.decorated_with_wraps, (2.0,), ad.NoSourceError,
                  "decorated_with_wraps is a wrapper made by a decorator"),
}


def _library(spelled, library):
    return (f"{spelled} is not supported: it is {library} outside "
            "autodiff_ast's rules table, and library code is never read and "
            "differentiated. Compute its result outside the function and "
            "pass it in (as an argument or a global), or write it with "
            "supported operations: arithmetic and the NumPy and math "
            "functions of the rules table")


# Library code is refused at the user's call, naming the callable: never
# at a line of NumPy's or autodiff_ast's own source (np.ones was refused at
# numpy/_core/numeric.py for its keyword-only arguments, np.einsum for its
# string, ad.grad at _api.py), and never inlined (colorsys was).
LIBRARY_CALLS = {
    "polyder": (h.numpy_polynomial_derivative, np.ones(3),
                _library("np.polyder", "a NumPy function")),
    "indices": (h.numpy_indices, np.ones(3),
                _library("np.indices", "a NumPy function")),
    "stdlib": (h.standard_library, 0.5,
               _library("colorsys.rgb_to_yiq", "a standard-library function")),
    "installed": (h.installed_package, np.ones(3),
                  _library("optree.tree_map",
                           "a function of the installed package optree")),
    "source-inside": (
        h.sourced_inside, 0.5,
        "ad.source cannot be called inside a function being "
        "differentiated: there, ad.grad, ad.value_and_grad, ad.jacobian, "
        "ad.jacfwd, ad.hessian, ad.jvp and ad.vjp can be (their generated "
        "code is differentiated), not the rest of autodiff_ast's own code"),
}


def test_a_derivative_called_inside_is_differentiated():
    # JAX composes grad freely; the generated gradient is inlined.
    assert ad.grad(h.slope_by_hand)(0.5) == pytest.approx(3.0, rel=1e-15)


@pytest.mark.parametrize("name", list(LIBRARY_CALLS))
def test_library_code_is_refused_at_the_users_call(name):
    function, argument, message = LIBRARY_CALLS[name]
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(function)(argument)
    assert info.value.msg == message
    assert (info.value.filename, info.value.lineno) == (str(FILE),
                                                        marked_line(name))


def test_library_functions_are_not_differentiated_from_their_source():
    import colorsys
    tail = (", neither a primitive in autodiff_ast's rules table nor your "
            "own code, and library code is never read and differentiated. "
            "Write your own function with supported operations: arithmetic "
            "and the NumPy and math functions of the rules table.")
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(np.ones)
    assert str(info.value) == "np.ones is a NumPy function" + tail
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(colorsys.rgb_to_yiq)
    assert str(info.value) == ("colorsys.rgb_to_yiq is a standard-library "
                               "function" + tail)


def test_a_string_that_is_not_used_as_a_number_is_fine():
    assert ad.grad(h.unused_label)(2.0) == 12.0


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_the_designed_error(name):
    function, args, error, message = REFUSED[name]
    started = time.perf_counter()
    with pytest.raises(error) as info:
        ad.grad(function)(*args)  # refused when differentiated or called
    assert time.perf_counter() - started < 10
    assert isinstance(info.value, ad.AutodiffError)
    text = getattr(info.value, "msg", None) or str(info.value)
    assert text.startswith(message), text
    if isinstance(info.value, (ad.UnsupportedCodeError, ad.ShapeError)):
        assert info.value.filename == str(FILE)
        assert info.value.lineno == marked_line(name)


def test_functions_without_source():
    namespace: dict = {}
    exec("def made(x):\n    return x * 2\n", namespace)
    with pytest.raises(ad.NoSourceError, match="cannot read the source of "
                       "made: it was defined in '<string>'"):
        ad.grad(namespace["made"])
    with pytest.raises(ad.NoSourceError, match="cannot read the source"):
        ad.grad(eval("lambda x: x * 3"))
    for builtin in (len, np.bincount, math.factorial):
        with pytest.raises(ad.NoSourceError, match="cannot differentiate"):
            ad.grad(builtin)


def test_inputs_that_are_not_numbers():
    with pytest.raises(ad.InputError, match=r"argument W of the derivative "
                       r"of lambda \(.*\) is a str, not a real number or an "
                       r"array of them"):
        ad.grad(lambda W: np.sum(W ** 2))("abc")
    with pytest.raises(ad.InputError, match="is a bytes, not a real number"):
        ad.grad(lambda W: np.sum(W ** 2))(b"abc")
    with pytest.raises(ad.InputError, match="has dtype int64"):
        ad.grad(lambda W: np.sum(W ** 2))(np.array([1, 2]))


def test_non_scalar_output():
    with pytest.raises(ad.OutputError, match=r"Output had shape: \(2,\)"):
        ad.grad(h.array_output)(np.ones((3, 2)))


# -- cases that work, with their values ----------------------------------

def test_methods_staticmethods_classmethods_and_objects():
    model = h.Model(3.0)
    assert ad.grad(model.energy)(0.5) == pytest.approx(3 * math.cos(0.5) + 1)
    model.scale = 5.0  # a changed attribute is read again
    assert ad.grad(model.energy)(0.5) == pytest.approx(5 * math.cos(0.5) + 1)
    assert ad.grad(h.Model.cube)(2.0) == 12.0
    assert ad.grad(model.cube)(2.0) == 12.0
    assert ad.grad(h.Model.double)(1.0) == 2.0
    assert ad.grad(h.uses_an_object)(2.0) == pytest.approx(3 * 4 + 4)


def test_functions_defined_inside_once_refused_work():
    assert ad.grad(h.inner_lambda)(2.0) == 4.0


def test_comprehensions_once_refused_work():
    assert ad.grad(h.list_comprehension)(2.0) == 1.0  # x
    assert ad.grad(h.generator_expression)(2.0) == 5.0  # x + x ** 2


def test_a_while_loop_that_breaks_once_refused_works():
    # 2.8 halves twice to 0.7 and breaks: x / 4; 2.0 halves once to 1.0
    # and ends by its condition: x / 2.
    assert ad.grad(h.while_loop)(2.8) == 0.25
    assert ad.grad(h.while_loop)(2.0) == 0.5


def test_numpy_functions_once_refused_work():
    W = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(ad.grad(h.product)(W), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(ad.grad(h.numpy_constructor)(W),
                                  np.ones(3))
    np.testing.assert_array_equal(ad.grad(h.numpy_identity)(W), np.ones(3))
    np.testing.assert_array_equal(ad.grad(h.boolean_mask)(W - 1),
                                  [1.0, 0.0, 1.0])


def test_a_decorator_that_names_its_arguments_is_followed():
    assert ad.grad(h.decorated_by_name)(3.0) == 12.0
    assert ad.grad(h.decorated_with_wraps.__wrapped__)(3.0) == 2


def test_many_statements():
    expected = 1 + sum(k % 7 + 1 for k in range(2000))
    assert ad.grad(h.many_statements)(0.3) == expected


def test_deep_nesting():
    x = 0.3
    values = [x]
    for _ in range(20):
        values.append(math.sin(values[-1]))
    expected = math.prod(math.cos(v) for v in values[:-1])
    assert ad.grad(h.deep_nesting)(x) == pytest.approx(expected, rel=1e-12)


def test_coefficients_below_the_float_range():
    # y = 0.5**1200 x + sum 0.5**k x: the derivative is just below 2.
    assert ad.grad(h.tiny_coefficients)(0.3) == pytest.approx(2.0)


@pytest.mark.parametrize("template,point", [
    ("{}", 0.5),
    # Array code lowered it with three frames a BinOp: nested too deeply.
    ("np.sum({})", np.array([0.5, 0.5]))])
def test_a_sum_of_a_thousand_terms(tmp_path, template, point):
    path = tmp_path / "long_sum.py"
    path.write_text("import numpy as np\n\n\ndef long_sum(x):\n    return "
                    + template.format(" + ".join(
                        f"{k} * x ** 2" for k in range(1, 1001)))
                    + "\n")
    spec = importlib.util.spec_from_file_location("long_sum", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.testing.assert_allclose(ad.grad(module.long_sum)(point),
                               sum(range(1, 1001)) * np.ones_like(point),
                               rtol=1e-14)


@pytest.mark.parametrize("function,order", [
    (h.negative_powers_away_from_zero, 3), (h.slow_to_cancel, 2)])
def test_derivatives_whose_simplification_once_took_minutes(function, order):
    from helpers import central_difference
    started = time.perf_counter()
    highest = ad.derivative(function, order)
    assert time.perf_counter() - started < 20
    below = ad.derivative(function, order - 1)
    for x in (0.55, -0.05):
        assert highest(x) == pytest.approx(
            central_difference(below, (x,), 0), rel=1e-6)


def test_time_limit_interrupts_python_code_and_respects_other_handlers():
    import signal

    from autodiff_ast._limits import TimeUp, time_limit
    import sympy as sp
    x = sp.Symbol("x")
    slow = sum((x + k) ** 40 for k in range(60))
    started = time.perf_counter()
    with pytest.raises(TimeUp):
        with time_limit(0.05):
            sp.factor(sp.expand(slow))  # SymPy code: interrupted
    assert time.perf_counter() - started < 1
    started = time.perf_counter()
    with time_limit(0.05):  # code outside SymPy is never interrupted
        while time.perf_counter() - started < 0.2:
            pass
    assert signal.getsignal(signal.SIGPROF) == signal.SIG_DFL
    previous = signal.signal(signal.SIGPROF, lambda *args: None)
    try:
        with time_limit(0.01):  # the program's own handler: no timer
            started = time.process_time()
            while time.process_time() - started < 0.05:
                pass
    finally:
        signal.signal(signal.SIGPROF, previous)
