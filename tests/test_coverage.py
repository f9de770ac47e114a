"""Issue 12's remaining coverage: calls whose arguments differ from the
rules table's functions (``math.log(x, base)``, ``math.hypot`` of any
number of coordinates, ``np.clip`` with a None bound), casts inside array
code (``.astype``, ``.item()``, ``dtype=`` of ``np.array``), and SciPy's
log-sum-exp family.

Each derivative is checked against central differences on its domain, and
where the source is the product, against the exact source.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import (assert_refused_at, central_difference,
                     numeric_gradient, sample_points)


def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def _check_partials(function, low, high, points=4):
    arity = function.__code__.co_argcount
    gradient = ad.grad(function, argnums=tuple(range(arity)))
    grid = sample_points(low, high, points)
    for i in range(len(grid)):
        args = tuple(float(grid[(i + k) % len(grid)] + 0.31 * k)
                     for k in range(arity))
        analytic = gradient(*args)
        for argnum in range(arity):
            assert float(analytic[argnum]) == pytest.approx(
                central_difference(function, args, argnum),
                rel=1e-7, abs=1e-9), (args, argnum)


# -- calls with other arguments than the table's functions ------------------

def log_base_two(x):
    return math.log(x, 2)


def log_any_base(x, base):
    return math.log(x, base)


def hypot_of_three(x, y, z):
    return math.hypot(x, y, z)


def hypot_of_four(x, y, z, w):
    return math.hypot(x, -y, 2 * z, w)


def hypot_of_one(x):
    return math.hypot(x) * x


@pytest.mark.parametrize("function, low, high", [
    (log_base_two, 0.1, 4.0),
    (log_any_base, 1.2, 4.0),  # base 1 is a pole
    (hypot_of_three, -3.0, 3.0),
    (hypot_of_four, -3.0, 3.0),
    (hypot_of_one, -3.0, 3.0),
])
def test_math_calls_with_other_arguments_match_central_differences(
        function, low, high):
    _check_partials(function, low, high)


def test_math_log_with_a_base_and_hypot_of_any_number_read_as_written():
    assert body(ad.grad(log_base_two)) == "return 1 / (x * math.log(2))"
    assert body(ad.grad(log_any_base, argnums=(0, 1))) == (
        "log_base = math.log(base)\n"
        "    grad_x = 1 / (log_base * x)\n"
        "    grad_base = -math.log(x) / (log_base ** 2 * base)\n"
        "    return grad_x, grad_base")
    # NumPy's hypot takes two arguments, so three are two nested hypots,
    # each scaled as hypot is: no overflow where the result is finite.
    assert body(ad.value_and_grad(hypot_of_three, argnums=(0, 1, 2))) == (
        "value = math.hypot(math.hypot(x, y), z)\n"
        "    value_inv = 1 / value\n"
        "    grad_x = value_inv * x\n"
        "    grad_y = value_inv * y\n"
        "    grad_z = value_inv * z\n"
        "    return value, (grad_x, grad_y, grad_z)")
    assert ad.grad(hypot_of_three)(3e200, 4e200, 0.0) == pytest.approx(0.6)
    assert body(ad.grad(hypot_of_one)) == (
        "return x * (2 * float(x >= 0) - 1) + abs(x)")


def clipped_sine(x):
    return max(x, 0.0) * math.sin(x)


def test_math_code_selects_and_steps_in_math_code():
    # A step (abs' and max's slopes) in math code is the
    # float of a comparison, not np.heaviside: the code stays math code,
    # its result a float, and so does the next derivative's.
    assert body(ad.grad(clipped_sine)) == (
        "return math.sin(x) * float(x >= 0) + math.cos(x) * max(x, 0)")
    assert body(ad.grad(ad.grad(clipped_sine)), 1.0) == (
        "return 2 * math.cos(x) * float(x >= 0) - math.sin(x) * max(x, 0)")
    for f, args in [(clipped_sine, (0.5,)),
                    (hypot_of_three, (1.0, -2.0, 2.0))]:
        for gradient in (ad.grad(f), ad.grad(ad.grad(f))):
            assert type(gradient(*args)) is float
    assert type(ad.grad(hypot_of_one)(-0.0)) is float
    assert ad.grad(ad.grad(hypot_of_one))(-0.0) == 2.0  # 2 abs'(-0.0)
    assert ad.grad(hypot_of_three, (0, 1, 2))(1.0, -2.0, 2.0) == \
        pytest.approx((1 / 3, -2 / 3, 2 / 3), rel=1e-15)


def test_math_log_refuses_what_math_log_refuses():
    def three(x):
        return math.log(x, 2, 3)

    def none_base(x):
        return math.log(x, None)

    def numpy_out(x):
        return np.log(x, 2)  # NumPy's second argument is `out`

    # Array code (a list) refuses them when the derivative is made too, as
    # scalar code does; it refused them at the first call.
    def numpy_out_by_a_list(x):
        parts = [x]
        return np.log(parts[0], 2)

    def keyword_by_a_list(x):
        parts = [x]
        return np.sin(parts[0], scale=2.0)

    def three_by_a_list(x):
        parts = [x]
        return math.log(parts[0], 2, 3)

    for function, message in [
            (three, "math.log() takes x and an optional base here"),
            (none_base, "math.log() takes x and an optional base here"),
            (numpy_out, "np.log() takes 1 argument here, got 2"),
            (numpy_out_by_a_list, "np.log() takes 1 argument here, got 2"),
            (keyword_by_a_list, "np.sin() takes no keyword arguments here"),
            (three_by_a_list,
             "math.log() takes x and an optional base here")]:
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)
        assert info.value.msg == message
        body = 2 if function.__name__.endswith("_by_a_list") else 1
        assert info.value.lineno == function.__code__.co_firstlineno + body


def distance(x, y):
    return math.dist((x, 1.0), (0.0, 2 * y))


def product(x, y):
    return math.prod([x, y, x], start=2.0)


def test_math_dist_and_prod_take_lists_and_read_as_written():
    # dist is the hypot of the differences: no overflow, no sqrt of squares.
    assert body(ad.grad(distance, argnums=(0, 1))) == (
        "t = 1 - 2 * y\n"
        "    hypot_x_t_inv = 1 / math.hypot(x, t)\n"
        "    grad_x = hypot_x_t_inv * x\n"
        "    grad_y = -2 * t * hypot_x_t_inv\n"
        "    return grad_x, grad_y")
    assert body(ad.grad(product, argnums=(0, 1)), 0.3, 0.5) == (
        "grad_x = 4 * x * y\n"
        "    grad_y = 2 * x ** 2\n"
        "    return grad_x, grad_y")
    _check_partials(distance, -3.0, 3.0)
    _check_partials(product, -3.0, 3.0)

    def mismatched(x):
        return math.dist((x, 1.0), (0.0,))

    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(mismatched)
    assert info.value.msg == ("math.dist() takes two points of the same "
                              "dimension, as lists or tuples of numbers here")
    assert info.value.lineno == mismatched.__code__.co_firstlineno + 1


def clip_below(x):
    return np.sum(np.clip(x, 0, None) ** 2)


def clip_above(x):
    return np.sum(np.clip(x, None, 1.0) * x)


def clip_keywords(x, lo):
    return np.sum(np.clip(x, a_min=lo, a_max=None) ** 3)


def clip_neither(x):
    return np.sum(np.clip(x, None, None) ** 2)


def clip_min_keyword(x):  # NumPy 2.1's names
    return np.sum(np.clip(x, min=-0.5) * np.clip(x, max=1.0, min=0.0))


@pytest.mark.parametrize("function", [
    clip_below, clip_above, clip_neither,
    pytest.param(clip_min_keyword, marks=pytest.mark.skipif(
        np.lib.NumpyVersion(np.__version__) < "2.1.0",
        reason="np.clip takes min= and max= from NumPy 2.1 on"))])
def test_clip_with_a_none_bound_matches_central_differences(function):
    x = np.array([-1.3, -0.7, -0.2, 0.4, 0.9, 1.7])
    np.testing.assert_allclose(ad.grad(function)(x),
                               numeric_gradient(function, (x,), 0),
                               rtol=1e-7, atol=1e-9)


def test_clip_with_keyword_bounds_matches_central_differences():
    x, lo = np.array([-1.3, -0.2, 0.4, 1.7]), 0.1
    dx, dlo = ad.grad(clip_keywords, argnums=(0, 1))(x, lo)
    np.testing.assert_allclose(dx, numeric_gradient(clip_keywords, (x, lo), 0),
                               rtol=1e-7)
    assert dlo == pytest.approx(central_difference(clip_keywords, (x, lo), 1),
                                rel=1e-7)


def test_clip_with_a_none_bound_is_a_maximum_or_minimum_with_jax_ties():
    # jnp.clip(x, 0, None) is maximum(x, 0): 0.5 at the bound, as JAX.
    assert body(ad.grad(lambda x: np.clip(x, 0, None))) == (
        "return np.heaviside(x, 0.5)")
    assert body(ad.grad(lambda x: np.clip(x, None, 1.0))) == (
        "return np.heaviside(1 - x, 0.5)")
    gradient = ad.grad(clip_below)
    np.testing.assert_array_equal(gradient(np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 4.0])
    assert ad.grad(lambda x: np.clip(x, 0, None))(0.0) == 0.5
    assert ad.grad(lambda x: np.clip(x, None, 1.0))(1.0) == 0.5


def clipped_cross_entropy(p, y):
    q = p.clip(1e-7, 1 - 1e-7)
    return -np.sum(y * np.log(q) + (1 - y) * np.log(1 - q))


def clip_methods(x):
    return np.sum(x.clip(0) ** 2 + x.clip(max=1.0) * x + x.clip(None, 0.5))


def test_the_clip_method_is_np_clip():
    p, y = np.array([0.2, 0.5, 0.9]), np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        ad.grad(clipped_cross_entropy)(p, y),
        numeric_gradient(clipped_cross_entropy, (p, y), 0), rtol=1e-7)
    x = np.array([-1.3, -0.2, 0.4, 0.9, 1.7])
    np.testing.assert_allclose(ad.grad(clip_methods)(x),
                               numeric_gradient(clip_methods, (x,), 0),
                               rtol=1e-7, atol=1e-9)
    # Outside the bounds nothing passes; at a bound, half (as np.clip).
    np.testing.assert_array_equal(
        ad.grad(clipped_cross_entropy)(np.array([0.0, 1.0]),
                                       np.array([1.0, 0.0])), [0.0, 0.0])
    assert body(ad.grad(clipped_cross_entropy), p, y) == (
        "t = np.heaviside(0.9999999 - p, 0.5) * np.heaviside(p - 1e-07, 0.5)\n"
        "    q = np.clip(p, 1e-07, 0.9999999)\n"
        "    return t * ((1 - y) / (1 - q) - y / q)")


def test_clip_refuses_what_numpy_refuses():
    def one_bound(x):
        return np.clip(x, 0.0)

    def both_spellings(x):
        return np.clip(x, 0.0, None, min=1.0)

    for function in (one_bound, both_spellings):
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)
        assert info.value.msg == (
            "np.clip() takes an array and its bounds a_min and a_max, or "
            "min= and max= (None for no bound) here")
        assert info.value.lineno == function.__code__.co_firstlineno + 1


# -- casts inside array code: .astype() and .item() -------------------------

def cast_to_float(x):
    return np.sum(x.astype(float) ** 2 * np.sin(x.astype("float64")))


def cast_to_int(x):
    return np.sum(x.astype(int) * x ** 2)


def cast_to_bool(x):
    return np.sum(x.astype(bool) * np.exp(x))


def cast_to_uint8(x):
    return np.sum(x.astype(dtype=np.uint8) * x)


def item_of_sum(x):
    return np.sum(x ** 2).item() * x.item(1, 2)


def item_in_c_order(x):
    return x.item(4) ** 3 + x[1:].sum().item()


CAST_POINT = np.array([[0.3, -1.2, 2.6], [1.5, -0.4, 0.7]])


@pytest.mark.parametrize("function", [
    cast_to_float, cast_to_int, cast_to_bool, cast_to_uint8, item_of_sum,
    item_in_c_order])
def test_casts_and_items_match_central_differences_and_numpy(function):
    value, grad = ad.value_and_grad(function)(CAST_POINT)
    assert value == function(CAST_POINT)
    np.testing.assert_allclose(
        grad, numeric_gradient(function, (CAST_POINT,), 0),
        rtol=1e-7, atol=1e-7)


def test_an_integer_cast_stops_the_gradient_as_in_jax():
    # jax.grad(lambda x: jnp.sum(x.astype(int) * x ** 2)) is 2 x trunc(x):
    # nothing through the cast, and its values are NumPy's (-1.2 -> 255
    # as uint8 is no arithmetic of -1.2).
    x = CAST_POINT
    np.testing.assert_array_equal(ad.grad(cast_to_int)(x),
                                  2 * x * np.trunc(x))
    with np.errstate(invalid="ignore"):
        wrapped = x.astype(np.uint8)
    np.testing.assert_array_equal(ad.grad(cast_to_uint8)(x), wrapped)
    assert ad.source(ad.grad(cast_to_uint8), x).endswith(
        "    return x.astype(np.uint8)\n")
    assert ad.source(ad.value_and_grad(cast_to_int), x).endswith(
        "    x_int64 = x.astype(int)\n"
        "    value = np.sum(x ** 2 * x_int64)\n"
        "    grad_x = 2 * x * x_int64\n"
        "    return value, grad_x\n")
    # A bool cast is x != 0: nothing through it, even at its jump.
    np.testing.assert_array_equal(
        ad.grad(cast_to_bool)(np.array([0.0, -0.5])), [0.0, np.exp(-0.5)])


def test_cast_code_runs_at_any_size():
    source = ad.source(ad.grad(cast_to_int), CAST_POINT)
    namespace = {"np": np}
    exec(source, namespace)
    x = np.linspace(-2.5, 2.5, 12).reshape(3, 4)
    np.testing.assert_array_equal(namespace["grad_cast_to_int"](x),
                                  2 * x * np.trunc(x))


def test_a_float_cast_passes_the_derivative_and_keeps_dtypes():
    def to_float32(x):
        return np.sum(x.astype(np.float32) ** 2)

    x = np.array([0.1, -2.0])
    gradient = ad.grad(to_float32)
    assert body(gradient, x) == "return 2 * np.float32(x)"
    np.testing.assert_array_equal(gradient(x), 2 * x.astype(np.float32))
    assert gradient(x).dtype == np.float64  # the argument's
    small = x.astype(np.float32)
    assert ad.grad(cast_to_float)(small).dtype == np.float32
    np.testing.assert_allclose(ad.grad(cast_to_float)(small),
                               ad.grad(cast_to_float)(x), rtol=1e-6)
    assert body(ad.grad(item_in_c_order), CAST_POINT) == (
        "d_x = np.zeros_like(x)\n"
        "    d_x[1:] = 1\n"
        "    d_x[1, 1] += 3 * x[1, 1] ** 2\n"
        "    return d_x")


def test_casts_and_items_refuse_what_they_cannot_differentiate():
    def to_complex(x):
        return np.sum(x.astype(complex))

    def to_half(x):
        return np.sum(x.astype(np.float16))

    def item_of_many(x):
        return x.item() * 2

    def item_out_of_bounds(x):
        return x.item(6)

    refusal = ("is not supported: a derivative casts to np.float32 or "
               "np.float64 (the derivative passes through), or to an integer "
               "or bool dtype (it stops there)")
    for function, message in [
            (to_complex, f".astype(complex128) {refusal}"),
            (to_half, f".astype(float16) {refusal}"),
            (item_of_many, ".item() of an array of shape (2, 3): it takes an "
                           "array of one element; pick one with .item(k) or "
                           "an index"),
            (item_out_of_bounds, "index 6 is out of bounds for .item() of an "
                                 "array of size 6")]:
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)(CAST_POINT)
        assert info.value.msg == message
        assert info.value.lineno == function.__code__.co_firstlineno + 1


# dtype= of np.array and np.asarray is the cast .astype makes: the array the
# user's code goes on with has that type (it was ignored once).

def asarray_in_float32(x):
    return np.sum(np.asarray(x, dtype=np.float32) * x)


def listed_in_float32(x):
    return np.sum(np.array([x[0], 2 * x[1]], "float32") ** 2)


def array_of_ints(x):
    return np.sum(np.array(x, dtype=int) * x ** 2)


def asarray_of_bools(x):
    return np.sum(np.asarray(x, dtype=bool) * np.exp(x))


def weighted_by_float32_constants(x):
    return np.sum(x * np.array([1.0, 3.0], dtype=np.float32))


def test_dtype_of_np_array_is_the_cast_astype_makes():
    # 1 + 1e-9 is 1 in float32: the gradient float32(x) + x is not 2 x
    x = np.array([1 + 1e-9, 2.5, -3.7])
    gradient = ad.grad(asarray_in_float32)
    np.testing.assert_array_equal(gradient(x), x.astype(np.float32) + x)
    assert gradient(x)[0] != 2 * x[0]
    assert body(gradient, x) == "return x + np.float32(x)"
    value, grad = ad.value_and_grad(listed_in_float32)(x)
    assert value == listed_in_float32(x) and value.dtype == np.float32
    np.testing.assert_array_equal(
        grad, [2 * np.float32(x[0]), 4 * np.float32(2 * x[1]), 0.0])
    # constants too: float16 times float32 is float32
    half = np.array([0.5, 2.0], dtype=np.float16)
    value, grad = ad.value_and_grad(weighted_by_float32_constants)(half)
    assert value == weighted_by_float32_constants(half)
    assert value.dtype == np.float32
    np.testing.assert_array_equal(grad, [1.0, 3.0])
    assert grad.dtype == np.float16
    assert body(ad.grad(weighted_by_float32_constants), half).endswith(
        "    return np.float32(np.array([1.0, 3.0]))")
    # an integer or bool dtype stops the derivative, as .astype's does
    np.testing.assert_array_equal(ad.grad(array_of_ints)(CAST_POINT),
                                  2 * CAST_POINT * np.trunc(CAST_POINT))
    np.testing.assert_array_equal(
        ad.grad(asarray_of_bools)(np.array([0.0, -0.5])), [0.0, np.exp(-0.5)])


def cast_to_its_own_dtype(x):
    y = np.asarray(x, dtype=float)
    return np.sum(np.sin(y) * y.astype(x.dtype) + x.astype(np.float32))


def number_cast_times_itself(x):
    return np.float64(x) * x


def test_a_cast_of_an_array_to_its_own_dtype_is_not_written():
    # float64 to float64 computes nothing (np.float64(x) of an array is
    # the array); the float32 cast stays, and so does a number's cast
    # (of a 0-d array here), which makes a NumPy scalar of it
    x = np.array([0.5, -1.25, 2.0])
    gradient = ad.grad(cast_to_its_own_dtype)
    assert body(gradient, x) == "return x * np.cos(x) + np.sin(x) + 1"
    np.testing.assert_allclose(gradient(x), np.sin(x) + x * np.cos(x) + 1,
                               rtol=1e-15)
    assert body(ad.grad(number_cast_times_itself), np.array(0.5)) == \
        "return x + np.float64(x)"


def asarray_in_complex(x):
    return np.sum(np.asarray(x, dtype=complex) ** 2)


def array_in_half(x):
    return np.sum(np.array(x, dtype=np.float16) ** 2)


def half_constants(x):
    return np.sum(x * np.array([[1.0, 2.0, 3.0]], dtype=np.float16))


@pytest.mark.parametrize("function, message", [
    (asarray_in_complex, "np.asarray's dtype=complex128"),
    (array_in_half, "np.array's dtype=float16"),
    (half_constants, "np.array's dtype=float16")],
    ids=["complex", "half", "half constants"])
def test_a_dtype_a_derivative_cannot_follow_is_refused(function, message):
    assert_refused_at(
        lambda: ad.grad(function)(CAST_POINT), function, 1,
        f"{message} is not supported: a derivative casts to np.float32 or "
        "np.float64 (the derivative passes through), or to an integer or "
        "bool dtype (it stops there)")


def cast_to_an_item(x):
    return np.sum(x.astype(x[0]) ** 2)


def asarray_in_a_dtype_given(x, kind):
    return np.sum(np.asarray(x, dtype=kind) ** 2)


@pytest.mark.parametrize("function, args, message", [
    (cast_to_an_item, (CAST_POINT,), ".astype() needs a dtype known when "
     "the function is differentiated (float, np.float32, 'float64', int, "
     "bool, ...), not x[0], a value known only at the call"),
    (asarray_in_a_dtype_given, (CAST_POINT, 2.0), "np.asarray's dtype= "
     "needs a dtype known when the function is differentiated (float, "
     "np.float32, 'float64', int, bool, ...), not kind, a value known "
     "only at the call")], ids=["item", "argument"])
def test_a_dtype_known_only_at_the_call_is_refused_as_written(
        function, args, message):
    # (it named the symbol standing for x[0], x_0)
    assert_refused_at(lambda: ad.grad(function)(*args), function, 1,
                      message)


def joined_by_r(x, y):
    z = np.r_[x, 2.0 * y, 0:3, 1.5]
    return np.sum(z ** 2 * np.cos(z))


def columns_by_c(x, y):
    return np.sum(np.c_[x, np.sin(y)] ** 3)


def cast_like(x, y):
    return np.sum(np.tanh(x).astype(y.dtype) * y + np.zeros(x.shape,
                                                            dtype=x.dtype))


def test_r_and_c_join_pieces_and_ranges():
    x, y = np.array([0.3, -1.2]), np.array([0.5, 0.8])
    for function in (joined_by_r, columns_by_c):
        grads = ad.grad(function, (0, 1))(x, y)
        for argnum, ours in enumerate(grads):
            np.testing.assert_allclose(
                ours, numeric_gradient(function, (x, y), argnum), rtol=1e-7)
    text = ad.source(ad.grad(joined_by_r, (0, 1)), x, y)
    assert "np.arange(0, 3)" in text and "np.concatenate([x, 2 * y" in text


def test_dtype_of_an_argument():
    x, y = np.array([0.3, -1.2], np.float32), np.array([0.5, 0.8])
    grad_x, grad_y = ad.grad(cast_like, (0, 1))(x, y)
    assert grad_x.dtype == np.float32 and grad_y.dtype == np.float64
    np.testing.assert_allclose(grad_x, (1 - np.tanh(x) ** 2) * y, rtol=1e-6)
    np.testing.assert_allclose(grad_y, np.tanh(x), rtol=1e-6)


def test_r_refuses_directive_strings_and_open_ranges():
    def directive(x):
        return np.sum(np.r_["0,2", x, x])

    def open_range(x):
        return np.sum(np.r_[x, 1:])

    for function, message in [
            (directive, "np.r_[...] with a directive string ('0,2') is not "
                        "supported: use np.concatenate or np.stack with an "
                        "axis"),
            (open_range, "np.r_[...] needs a stop for a range, e.g. 0:3")]:
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)(np.ones(2))
        assert info.value.msg == message
        assert info.value.lineno == function.__code__.co_firstlineno + 1


def exp_series(x):
    return sum(x ** k / math.factorial(k) for k in range(8))


def binomial_total(p):
    return sum(math.comb(3, k) * p ** k * (1 - p) ** (3 - k)
               for k in range(4))


def factorial_of_a_value(x):
    return math.factorial(x)


def test_integer_functions_of_constants_are_numbers():
    # math.factorial, math.comb, ... of loop counters are constants, as
    # JAX traces them (only their values at lowering are ints).
    assert ad.grad(exp_series)(0.7) == pytest.approx(
        sum(0.7 ** k / math.factorial(k) for k in range(7)), rel=1e-15)
    assert ad.grad(binomial_total)(0.3) == 0  # the probabilities sum to 1
    assert_refused_at(
        lambda: ad.grad(factorial_of_a_value)(3.0), factorial_of_a_value, 1,
        "math.factorial() takes integers known when the function is "
        "differentiated (constants, loop counters, sizes), not values that "
        "vary with its arguments")


def kth_smallest(x):
    return np.sort(x)[int(0.25 * len(x))]


def test_int_of_sizes_is_an_index_known_now():
    x = np.array([0.3, -0.7, 1.2, 0.5, 2.0, -1.0, 0.1, 0.9])
    np.testing.assert_array_equal(ad.grad(kth_smallest)(x),
                                  np.eye(8)[np.argsort(x)[2]])
