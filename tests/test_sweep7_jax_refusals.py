"""JAX's own tests of its autodiff API (tests/api_test.py, APITest), read and
written again for NumPy code (sweep 7), part two: what is refused and how.
Non-scalar outputs of grad, aux that is not a pair, arguments that are
strings, object arrays or shapes that do not fit, jvp and vjp called with
primals, tangents or cotangents of the wrong kind, shape or structure,
complex numbers and holomorphic=True; and integer and bool arguments
(allow_int), where JAX gives a float0 zero. Messages are pinned as the
user reads them.

Each test names the JAX test it follows. Known bugs are strict xfails
whose reason names their entry in the sweep's list ("sweep7 bug N").
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import autodiff_ast as ad


def identity(x):
    return x


def add(x, y):
    return x + y


def times(x, y):
    return x * y


def three_numbers(x):
    return (1, 2, 3)


def one_tuple(x):
    return (x,)


@pytest.mark.parametrize("fun, returned", [
    (three_numbers, "a tuple of 3"), (identity, "a single value"),
    (one_tuple, "a tuple of 1")])
def test_aux_must_be_a_pair(fun, returned):
    # (test_grad_and_aux_error)
    with pytest.raises(ad.OutputError, match=(
            rf"has_aux=True requires {fun.__name__} \(.*\) to return a pair "
            rf"\(value, aux\), but it returns {returned}\. Return `value, "
            r"aux`, or drop has_aux\.")):
        ad.grad(fun, has_aux=True)(1.0)


# -- refusals of outputs (test_grad_tuple_output, test_grad_unit_output) --------

def twice(x):
    return (x, x)


def nothing(x):
    return ()


def test_grad_of_a_tuple_output_is_refused():
    with pytest.raises(ad.OutputError, match=(
            r"twice \(.*\) returns a tuple of 2 values, but grad needs a "
            r"single scalar output\. If the other values are auxiliary data, "
            r"return `value, aux` and pass has_aux=True\.")):
        ad.grad(twice)(1.0)


def test_grad_of_an_empty_tuple_output_is_refused():
    with pytest.raises(ad.OutputError, match=(
            r"nothing \(.*\) returns a tuple of 0 values, but grad needs a "
            r"single scalar output")):
        ad.grad(nothing)(np.zeros(3))


# -- refusals of inputs (test_bad_input, test_binop_mismatch, test_dot_mismatch,
#    test_grad_object_array_error) ----------------------------------------------

def test_grad_of_a_string_is_refused():
    with pytest.raises(ad.InputError, match=(
            r"argument x of the derivative of identity \(.*\) is a str, not "
            r"a real number or an array of them\. Pass floats, e\.g\. "
            r"np\.asarray\(x, dtype=float\)\.")):
        ad.grad(identity)("foo")


def test_grad_of_an_object_array_is_refused():
    with pytest.raises(ad.InputError, match=(
            r"argument x of the derivative of identity \(.*\) is an array of "
            r"dtype object, not a real number or an array of them")):
        ad.grad(identity)(np.array([1, 2, 3], dtype=object))


def test_shapes_that_do_not_broadcast_are_refused():
    # (a ShapeError: an InputError, as JAX's TypeError, and a ValueError,
    # as NumPy's)
    # (at the line where they meet)
    with pytest.raises(ad.ShapeError, match=(
            r"^operands could not be broadcast together with shapes \(3,\) "
            r"\(4,\): the function cannot be evaluated at arguments of these "
            r"shapes; pass arrays whose shapes fit, as NumPy requires "
            r"\(tests/test_sweep7_jax_refusals.py:\d+\)$")) as info:
        ad.grad(add)(np.zeros(3), np.zeros(4))
    assert info.value.lineno == add.__code__.co_firstlineno + 1
    assert isinstance(info.value, ad.InputError)
    assert isinstance(info.value, ValueError)


def dot(x, y):
    return np.dot(x, y)


# was sweep7 bug 10: np.dot of shapes (3,) and (4,) raised
# UnsupportedCodeError, as if the code were unsupported; the inputs are at
# fault (JAX: a TypeError naming both shapes)
def test_dot_of_mismatched_shapes_is_refused():
    with pytest.raises(ad.InputError, match=(
            r"^shapes \(3,\) and \(4,\) not aligned: 3 \(dim 0\) != 4: the "
            r"function cannot be evaluated at arguments of these shapes; pass "
            r"arrays whose shapes fit, as NumPy requires \(.*"
            r"test_sweep7_jax_refusals\.py:\d+\)$")):
        ad.grad(dot)(np.zeros(3), np.zeros(4))


# -- jvp and vjp arguments (test_jvp_mismatched_arguments,
#    test_jvp_non_tuple_arguments, test_vjp_mismatched_arguments,
#    test_vjp_bad_cotangent_shape, test_vjp_multiple_arguments_error_message) ---

def plus_one(x):
    return x + 1


def test_jvp_with_no_tangents_is_refused():
    with pytest.raises(ad.InputError, match=(
            r"jvp needs one tangent per primal: got 1 primals and 0 "
            r"tangents\.")):
        ad.jvp(times, (np.float32(2),), ())


# was sweep7 bug 11: jvp with too few primals crashed (TypeError)
def test_jvp_with_too_few_primals_is_refused():
    with pytest.raises(ad.InputError, match=r"\by\b"):
        ad.jvp(times, (np.float32(2),), [np.float32(2)])


def test_jvp_with_arguments_not_in_tuples_is_refused():
    spelled = (r"jvp takes primals and tangents as tuples, one entry per "
               r"argument of the function, e\.g\. ad\.jvp\(f, \(x, y\), "
               r"\(dx, dy\)\); got ")
    with pytest.raises(ad.InputError, match=spelled + r"float and tuple\."):
        ad.jvp(add, 0.0, (1.0,))
    with pytest.raises(ad.InputError, match=spelled + r"tuple and ndarray\."):
        ad.jvp(add, (0.0,), np.array([1.0, 2.0]))


@pytest.mark.parametrize("primal, tangent, shapes", [
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]),
     r"\(4,\), but the argument has shape \(3,\)"),
    (np.float32(10.0), np.array([1.0, 2.0, 3.0], dtype=np.float32),
     r"\(3,\), but the argument has shape \(\)"),
    (np.array([1.0, 2.0, 3.0], dtype=np.float32), np.float32(20.0),
     r"\(\), but the argument has shape \(3,\)"),
    (np.array([1.0, 2.0, 3.0]), 20.0,
     r"\(\), but the argument has shape \(3,\)"),
])
def test_jvp_with_a_tangent_of_another_shape_is_refused(primal, tangent,
                                                        shapes):
    with pytest.raises(ad.InputError, match=(
            r"the tangent for x has shape " + shapes +
            r": pass tangents shaped like the primals\.")):
        ad.jvp(plus_one, (primal,), (tangent,))


def test_vjp_with_a_cotangent_of_another_structure_is_refused():
    _, pullback = ad.vjp(times, np.float32(3), np.float32(4))
    with pytest.raises(ad.InputError, match=(
            r"the cotangent has 2 entries, but the function has 1 output: "
            r"pass one per output, in the output's structure\.")):
        pullback((np.float32(7), np.float32(100)))


def matmul(x, y):
    return np.matmul(x, y)


def test_vjp_with_a_cotangent_of_another_shape_is_refused():
    x = np.ones((2, 5), dtype=np.float32)
    y = np.ones((5, 3), dtype=np.float32)
    _, pullback = ad.vjp(matmul, x, y)
    with pytest.raises(ad.InputError, match=(
            r"the cotangent of output 0 has shape \(2, 4\), but that output "
            r"has shape \(2, 3\): pass a cotangent of each output's shape\.")):
        pullback(np.ones((2, 4), dtype=np.float32))


# was sweep7 bug 12: vjp_fun given two cotangents crashed (TypeError)
def test_vjp_pullback_called_with_two_cotangents_is_refused():
    _, pullback = ad.vjp(twice, 1.0)
    with pytest.raises(ad.InputError, match="twice"):
        pullback(1.0, 1.0)


# -- complex numbers (test_complex_grad_raises_error, test_holomorphic_grad,
#    test_complex_output_jacrev_raises_error, test_complex_input_jacfwd_raises_error,
#    test_grad_complex_result_errors, test_holomorphic_*_of_float_errors,
#    test_jacfwd_of_complex_errors) ---------------------------------------------

def sine(x):
    return np.sin(x)


def square(x):
    return x ** 2


def square_plus_i(x):
    return x ** 2 + 1j


@pytest.mark.parametrize("transform", [ad.grad, ad.jacrev, ad.jacfwd])
def test_a_complex_argument_is_refused(transform):
    with pytest.raises(ad.InputError, match=(
            r"argument x of the derivative of sine \(.*\) is complex "
            r"\(\(1\+2j\)\): autodiff_ast differentiates real functions of "
            r"real arguments")):
        transform(sine)(1 + 2j)


def sine_by_a_list(x):
    parts = [x]  # (a list: array code)
    return np.sum(np.sin(parts[0]))


ARRAY_CODE = (f"the derivative of sine_by_a_list "
              f"({os.path.relpath(__file__)}:"
              f"{sine_by_a_list.__code__.co_firstlineno})")


@pytest.mark.parametrize("argument, what, fix", [
    ("foo", "a str", "Pass floats, e.g. np.asarray(x, dtype=float)."),
    (np.array([1.0], dtype=object), "an array of dtype object",
     "Pass floats, e.g. np.asarray(x, dtype=float)."),
    (range(2), "a range", "Pass numbers, NumPy arrays, or lists, tuples "
     "and dicts of them, or leave it out of argnums.")],
    ids=["str", "object_array", "range"])
def test_array_code_refuses_what_is_not_a_number_in_scalar_codes_words(
        argument, what, fix):
    # It said "argument x is str, not a number or an array of numbers",
    # without the function, and advised np.asarray for any object.
    with pytest.raises(ad.InputError) as info:
        ad.grad(sine_by_a_list)(argument)
    assert str(info.value) == (
        f"argument x of {ARRAY_CODE} is {what}, not a real number or an "
        f"array of them. {fix}")


@pytest.mark.parametrize("argument, shown", [
    (1 + 2j, "(1+2j)"), (np.array([1.0, 2j]), "an array of dtype complex128"),
    ({"a": np.complex64(1j)}, repr(np.complex64(1j)))],
    ids=["number", "array", "in_a_dict"])
def test_array_code_names_itself_when_refusing_a_complex_argument(argument,
                                                                 shown):
    where = "x['a']" if isinstance(argument, dict) else "x"
    with pytest.raises(ad.InputError) as info:
        ad.grad(sine_by_a_list)(argument)
    assert str(info.value) == (
        f"argument {where} of {ARRAY_CODE} is complex ({shown}): "
        "autodiff_ast differentiates real functions of real arguments "
        "(complex differentiation, JAX's holomorphic=True, is not supported "
        f"yet). Pass the real part, e.g. {where}.real, if that is meant.")


def test_a_complex_result_is_refused():
    with pytest.raises(ad.UnsupportedCodeError,
                       match="complex literals are not supported"):
        ad.grad(square_plus_i)(3.0)


@pytest.mark.parametrize("transform, name", [
    (ad.grad, "grad"), (ad.jacrev, "jacobian"), (ad.jacfwd, "jacfwd"),
    (ad.value_and_grad, "value_and_grad"), (ad.hessian, "hessian")])
def test_holomorphic_is_refused(transform, name):
    with pytest.raises(ad.InputError, match=(
            rf"{name}\(holomorphic=True\): autodiff_ast differentiates "
            r"real-valued code only; differentiate the real and imaginary "
            r"parts as real functions, or drop holomorphic=True\.")):
        transform(square, holomorphic=True)(3.0)


# -- integers and bools (test_grad_of_int_errors, test_grad_of_int,
#    test_grad_of_int_index, test_vjp_of_int_index, test_jvp_of_int_identity,
#    test_jvp_of_convert_element_type, test_grad_of_bool) -----------------------

def item(x, i):
    return x[i]


def power(x, n):
    return x ** n


def plus_zero(x):
    return x + 0.0


# was sweep7 bug 2 (silent): allow_int=True was ignored, the gradient at an
# int that of the real extension (5.545 for d/dn 2.0**n at n=3)
def test_allow_int_gives_integer_arguments_a_zero_gradient():
    assert ad.grad(power, argnums=1, allow_int=True)(2.0, 3) == 0
    assert ad.grad(plus_zero, allow_int=True)(1) == 0


def test_grad_of_an_item_with_an_int_index():
    np.testing.assert_array_equal(ad.grad(item)(np.ones(2), 1),
                                  np.array([0.0, 1.0]))


# was sweep7 bug 8: x[i] with i among argnums and allow_int=True was refused
# ('indices must be integers ...')
def test_grad_of_an_int_index_with_allow_int():
    grad_x, grad_i = ad.grad(item, argnums=(0, 1), allow_int=True)(
        np.ones(2), 1)
    np.testing.assert_array_equal(grad_x, np.array([0.0, 1.0]))
    assert grad_i == 0


def test_vjp_of_an_item_with_an_int_index():
    primal, pullback = ad.vjp(item, np.ones(2) * 2, 1)
    assert primal == 2.0
    ct_x, ct_i = pullback(1.0)
    np.testing.assert_array_equal(ct_x, np.array([0.0, 1.0]))
    assert ct_i == 0


def as_int_plus_one(x):
    return x.astype(np.int32) + 1


def test_jvp_through_a_cast_to_int():
    # JAX: (int32 3, a float0 zero): an integer output has no tangent
    value, tangent = ad.jvp(as_int_plus_one, (np.float64(2.0),),
                            (np.float64(1.0),))
    assert value == 3 and np.result_type(value) == np.int32
    assert tangent == 0


def one_or_two(pred):
    return 1.0 if pred else 2.0


# was sweep7 bug 9: value_and_grad(allow_int=True) at a bool was refused
def test_value_and_grad_of_a_bool():
    value, slope = ad.value_and_grad(one_or_two, allow_int=True)(True)
    assert value == 1.0 and slope == 0
