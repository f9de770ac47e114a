"""Derivatives of scalar code take numbers as the user's code does.

At a pole, Python's float arithmetic raises (``1 / x`` at 0.0) where the
user's NumPy code gives inf with a RuntimeWarning and JAX gives inf: the
derivative then gives NumPy's value, with NumPy's warning, and prints the
same source. An integer argument is the float it stands for: the
derivative at 2 is the derivative at 2.0, a float (JAX refuses ints).
"""

import inspect
import math
import warnings

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._compile import compile_function
from autodiff_ast._handle import make_handle
from autodiff_ast._float_handle import transform_of


def np_log(x):
    return np.log(x)


def math_log(x):
    return math.log(x)


def reciprocal(x):
    return 1 / x


def inverse_square(x):
    return x ** -2


def inverse_cube(x):
    return x ** -3


def np_sqrt(x):
    return np.sqrt(x)


def math_sqrt(x):
    return math.sqrt(x)


def square_root_as_power(x):
    return x ** 0.5


def np_arctanh(x):
    return np.arctanh(x)


def math_atanh(x):
    return math.atanh(x)


def math_asin(x):
    return math.asin(x)


def np_log1p(x):
    return np.log1p(x)


# JAX 0.10.2's jax.grad at these points (x64).
POLES = [(np.log, 0.0, math.inf), (np_log, 0.0, math.inf),
         (math_log, 0.0, math.inf), (reciprocal, 0.0, -math.inf),
         (inverse_square, 0.0, -math.inf), (inverse_cube, 0.0, -math.inf),
         (np_sqrt, 0.0, math.inf), (math_sqrt, 0.0, math.inf),
         (square_root_as_power, 0.0, math.inf), (np_arctanh, 1.0, math.inf),
         (np_arctanh, -1.0, math.inf), (math_atanh, 1.0, math.inf),
         (math_asin, 1.0, math.inf), (np_log1p, -1.0, math.inf)]
IDS = [f"{f.__name__}-{x}" for f, x, _ in POLES]


@pytest.mark.parametrize("f, x, expected", POLES, ids=IDS)
def test_a_pole_at_a_python_float_is_numpys_inf_with_its_warning(
        f, x, expected):
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        value = ad.grad(f)(x)
    assert value == expected and isinstance(value, float)


@pytest.mark.parametrize("f, x, expected", POLES, ids=IDS)
@pytest.mark.parametrize("kind", [np.float64, np.float32, np.array])
def test_a_pole_at_numpy_numbers_keeps_their_type(f, x, expected, kind):
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        value = ad.grad(f)(kind(x))
    assert value == expected
    assert value.dtype == (np.float32 if kind is np.float32 else np.float64)


def test_the_printed_source_keeps_its_namespace():
    assert ad.source(ad.grad(math_sqrt)).splitlines()[-1] == (
        "    return 0.5 / math.sqrt(x)")
    assert ad.source(ad.grad(math_log)).splitlines()[-1] == (
        "    return 1 / x")


def test_second_derivatives_and_value_and_grad_at_a_pole():
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.hessian(np_log)(0.0) == -math.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.grad(ad.grad(math_sqrt))(0.0) == -math.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.value_and_grad(np_log)(0.0) == (-math.inf, math.inf)


def test_an_overflow_of_python_floats_is_numpys_inf():
    # 3 * x ** 2 raises OverflowError at 1e200 in Python floats.
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert ad.grad(lambda x: x ** 3)(1e200) == math.inf


def test_under_numpy_errors_raising_the_first_error_is_raised():
    with np.errstate(divide="raise"), pytest.raises(ZeroDivisionError):
        ad.grad(math_log)(0.0)


def test_outside_the_domain_the_users_error_stays():
    # log(x) + 1 at -1: math.log raises in the user's function as here.
    with pytest.raises(ValueError, match="math domain error"):
        ad.grad(lambda x: x * math.log(x))(-1.0)


SCALE = 2.0


def scaled_log(x):
    return SCALE * math.log(x)


def test_the_numpy_call_reads_globals_as_they_are_now():
    global SCALE
    gradient = ad.grad(scaled_log)
    with pytest.warns(RuntimeWarning):
        assert gradient(0.0) == math.inf
    SCALE = -3.0
    try:
        with pytest.warns(RuntimeWarning):
            assert gradient(0.0) == -math.inf
        assert gradient(2.0) == -1.5
    finally:
        SCALE = 2.0


def test_keyword_defaults_at_a_pole():
    def shifted(x, c=1.0):
        return np.log(x - c)

    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.grad(shifted)(1.0) == math.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.grad(shifted)(3.0, c=3.0) == math.inf


def test_away_from_poles_nothing_warns():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ad.grad(np_log)(4.0) == 0.25
        assert ad.grad(math_sqrt)(4.0) == 0.25


# -- integer arguments -------------------------------------------------------

def square(x):
    return x ** 2


def third_of_cube(x):
    return x ** 3 / 3


def product(x, y):
    return x ** 2 * y


def power(x, n):
    return x ** n


@pytest.mark.parametrize("two", [2, np.int64(2), np.int32(2), np.uint8(2)])
def test_a_derivative_at_an_integer_is_a_float(two):
    for f, expected in [(square, 4.0), (third_of_cube, 4.0)]:
        value = ad.grad(f)(two)
        assert value == expected and type(value) is float
    assert ad.grad(ad.grad(square))(two) == 2.0
    assert type(ad.grad(ad.grad(square))(two)) is float


def test_every_transform_of_scalar_code_at_integers_gives_floats():
    results = [ad.value_and_grad(square)(2), ad.hessian(third_of_cube)(2),
               ad.jacobian(square)(2), ad.jacfwd(square)(2),
               ad.grad(product, argnums=(0, 1))(2, 3)]
    assert results == [(4.0, 4.0), 4.0, 4.0, 4.0, (12.0, 4.0)]
    for value in optree_leaves(results):
        assert type(value) is float
    value, tangent = ad.jvp(square, (2,), (1,))
    assert tangent == 4.0 and type(tangent) is float


def optree_leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for part in tree for leaf in optree_leaves(part)]
    return [tree]


def test_only_the_arguments_differentiated_are_made_floats():
    assert ad.grad(power)(2, 3) == 12.0
    assert type(ad.grad(power)(2, 3)) is float
    assert ad.grad(power, argnums=1)(2, 3) == 8 * math.log(2)


def test_an_integer_array_in_elementwise_code_is_refused_as_jax_refuses_it():
    # (an int array is labels more often than a point; an int is 2.0)
    with pytest.raises(ad.InputError, match="grad requires floating-point "
                       "inputs, but argument x has dtype int64"):
        ad.grad(square)(np.array([1, 2, 3]))
    assert ad.grad(square)(3) == 6.0


def test_integers_too_large_for_exact_arithmetic_are_floats():
    # at 2 ** 60 the int result 3 * x ** 2 would be exact; the float one is
    # what a call at float(x) gives
    x = 2 ** 60
    assert ad.grad(lambda t: t ** 3)(x) == 3.0 * float(x) ** 2


def test_an_integer_array_in_array_code_is_refused():
    with pytest.raises(ad.InputError, match="grad requires floating-point "
                       "inputs, but argument x has dtype int64. Pass floats, "
                       r"e.g. np.asarray\(x, dtype=float\)"):
        ad.grad(lambda x: np.sum(x ** 2))(np.array([1, 2]))


# -- keyword-only parameters -------------------------------------------------

def scaled_square(x, *, k=2.0):
    return k * x ** 2


# was: keyword-only parameters printed without their *
def test_a_keyword_only_parameter_keeps_its_star():
    gradient = ad.grad(scaled_square)
    assert ad.source(gradient).splitlines()[0] == (
        "def dscaled_square_dx(x, *, k=2.0):")
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        gradient(1.0, 3.0)


KEYWORD_ONLY = '''def dg_dx(x, *, k=2.0):
    """Derivative of g with respect to x."""
    return k / x
'''


def keyword_only_handles(passed_on):
    written = compile_function(KEYWORD_ONLY, "dg_dx")  # (source at hand)
    namespace = {}
    exec(KEYWORD_ONLY, namespace)  # (none: the handle calls the function)
    return [make_handle(function, (), lambda: None,
                        lambda *args, **kwargs:
                        passed_on.append((args, kwargs)),
                        plan=0, as_made=())
            for function in (written, namespace["dg_dx"])]


def test_a_handle_takes_keyword_only_parameters_as_its_code_does():
    passed_on = []
    for handle in keyword_only_handles(passed_on):
        assert handle(2.0) == 1.0 and handle(2.0, k=3.0) == 1.5
        assert str(inspect.signature(handle)) == "(x, *, k=2.0)"
        with pytest.raises(TypeError, match="takes 1 positional argument "
                           "but 2 were given"):
            handle(2.0, 3.0)
        handle(2, k=3)  # (not the floats it was made for: the transform's)
        assert passed_on.pop() == ((2,), {"k": 3})
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            assert handle(0.0, k=-1.0) == -math.inf


def looped_log(x, n=12):
    total = 0.0
    for _ in range(n):  # (kept a loop: array code answers)
        total = total + np.log(x) / n
    return total


def looped_math_log(x):
    total = 0.0
    for _ in range(12):
        total = total + math.log(x) / 12
    return total


@pytest.mark.parametrize("f", [looped_log, looped_math_log])
def test_a_pole_of_array_code_at_a_python_float_is_numpys_inf(f):
    derivative = ad.grad(f)
    assert type(transform_of(derivative)).__name__ == "ArrayTransform"
    for _ in range(2):  # (the second call: the code of its kind at once)
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            value = derivative(0.0)
        assert value == math.inf and isinstance(value, float)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert derivative(np.float32(0.0)) == np.float32(math.inf)
    assert derivative(0.5) == pytest.approx(2.0)
    with np.errstate(divide="raise"), pytest.raises(ZeroDivisionError):
        derivative(0.0)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.hessian(f)(0.0) == -math.inf
