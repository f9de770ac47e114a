"""A corpus of code autodiff_ast is handed but should not (or barely can)
differentiate. Each refused function carries `# hostile: <name>` on the line
its error must point at; test_hostile.py holds the expected outcomes."""

import colorsys
import functools
import math

import numpy as np
import optree

import autodiff_ast as ad

COUNTS = [1.0, 2.0]
LIMIT = 3.0


def while_loop(x):
    while x > 1:
        x = x / 2
        if x < 0.75:
            break
    return x


def generator(x):
    yield x  # hostile: generator


async def coroutine(x):  # hostile: async
    return x


def try_except(x):
    try:  # hostile: try
        return math.log(x)
    except ValueError:
        return 0.0


def with_block(x):
    with open("f"):  # hostile: with
        return x


def global_statement(x):
    global LIMIT  # hostile: global
    return x


def nonlocal_statement(x):
    y = x

    def inner():
        nonlocal y  # hostile: nonlocal
        y = 2
    return y


def item_mutation(x):
    x[0] = 1.0  # hostile: item-mutation
    return x


def attribute_mutation(x):
    x.value = 1.0  # hostile: attribute-mutation
    return x


def side_effect(x):
    x.sort()  # hostile: side-effect
    return x


def recursive(x):
    if x > 1:
        return recursive(x - 1)  # hostile: recursion
    return x


def ping(x):
    return pong(x) if x > 1 else x


def pong(x):
    return ping(x - 1)  # hostile: mutual-recursion


def varargs(*xs):  # hostile: varargs
    return xs[0]


def kwargs(x, **options):  # hostile: kwargs
    return x


def keyword_only(x, *, scale=1.0, shift):  # hostile: keyword-only
    return x * scale + shift


def list_comprehension(x):
    return [x ** k for k in range(3)][1]


def generator_expression(x):
    return sum(x ** k for k in range(3) if k)


def set_comprehension(x):
    return sum({x * k for k in range(3)})  # hostile: comprehension-of-a-set


def unknown_callable(x):
    return np.random.normal(x)  # hostile: unknown


RNG = np.random.default_rng(0)


def random_generator(W):
    return np.sum(W * RNG.normal(size=3))  # hostile: rng


def unique_values(W):
    return np.sum(np.unique(W))  # hostile: unique


def sort_in_place(W):
    W.sort()  # hostile: sort-in-place
    return np.sum(W * W)


def fill_in_place(W):
    return np.sum(W.fill(0.0))  # hostile: fill


def c_function_outside_the_table(x):
    return math.factorial(x)  # hostile: factorial


def builtin_io(x):
    return open(x)  # hostile: open


def string_literal(x):
    label = "x"
    return x * label  # hostile: string


def unused_label(x):
    label = "cube"
    return x ** 3


def bytes_literal(x):
    label = b"x"  # hostile: bytes
    return x


def complex_literal(x):
    return x * 1j  # hostile: complex


def f_string(x):
    return f"{x}"  # hostile: fstring


def walrus(x):
    return (y := x) * y  # hostile: walrus


def inner_lambda(x):
    square = lambda v: v * v  # noqa: E731
    return square(x)


def delete(x):
    y = x
    del y  # hostile: del
    return x


def assertion(x):
    assert x > 0  # hostile: assert
    return x


def raising(x):
    if x < 0:
        raise ValueError("negative")  # hostile: raise
    return x


def local_import(x):
    import cmath  # hostile: import
    return x


def identity_comparison(x):
    doubled = 2 * x
    return x if x is doubled else doubled  # hostile: is


def set_literal(x):
    return len({x, 1.0})  # hostile: set


def bare_return(x):
    return  # hostile: bare-return


def no_return(x):  # hostile: no-return
    y = x * 2


def computed_index(W, x):
    return W[int(x)]  # hostile: computed-index


def array_condition(W):
    if W > 0:  # hostile: array-if
        return np.sum(W)
    return 0.0


def shape_mismatch(W, b):
    return np.sum(W + b)  # hostile: broadcast


def product(W):
    return np.prod(W)  # works: exact at zeros


def global_list(x):
    return x * COUNTS[0]  # works: read as constants, re-checked


def huge_loop(x):
    # A tuple carried from one iteration to the next cannot stay a loop yet.
    pair = (x, 0.0)
    for k in range(10 ** 6):  # hostile: huge-loop
        pair = (pair[1], pair[0] + 1.0)
    return pair[0]


def exponential_growth(x):
    # A pair carried from one iteration to the next: unrolled, each step
    # reads both values twice, so written out it doubles at every step
    # (named values keep it linear; test_named_values).
    pair = (x, x)
    for _ in range(9):
        pair = (np.sin(pair[0]) * pair[1] + pair[1],
                np.cos(pair[1]) * pair[0] + pair[0])
    return pair[0]


def len_of_scalar(x):
    return x * len(x)  # hostile: len-scalar


def array_output(W):
    return np.sum(W, axis=0)



# -- code that works ---------------------------------------------------------

class Model:
    K = 2.0

    def __init__(self, scale):
        self.scale = scale

    def energy(self, x):
        return np.sin(x) * self.scale + self.square(x)

    def square(self, x):
        return x ** 2

    @staticmethod
    def cube(x):
        return x ** 3

    @classmethod
    def double(cls, x):
        return x * cls.K


MODEL = Model(3.0)


def uses_an_object(x):
    return MODEL.scale * x ** 2 + MODEL.square(x)


def forwarding(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@forwarding
def decorated_with_wraps(x):  # hostile: decorated
    return x * 2


def twice(fn):
    def wrapper(x):
        return 2 * fn(x)
    return wrapper


@twice
def decorated_by_name(x):
    return x ** 2


def many_statements(x):
    y = x
    for k in range(2000):
        y = y + (k % 7 + 1) * x
    return y


def deep_nesting(x):
    return np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(
        np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(np.sin(
            np.sin(np.sin(x))))))))))))))))))))


def tiny_coefficients(x):
    y = x
    for _ in range(1200):
        y = y * 0.5 + x
    return y


def negative_powers_away_from_zero(x):
    # Found by the property tests: looking for a 0/0 at zero in its
    # derivatives (there is none) took SymPy's series minutes.
    a = np.logaddexp(np.exp(np.sin(x)), 0.05)
    if x > 0.25:
        return np.logaddexp(np.exp(np.sin(x)), 0.1) + np.cbrt(2 + np.sin(a))
    return np.arcsinh(x) - np.cbrt(2 + np.sin(a))


def slow_to_cancel(x):
    # Found by the property tests: SymPy's cancel on its second derivative
    # (a 291-operation expression) ran for minutes.
    a = np.sqrt(1 + (1.25 * x) ** 2)
    total = 0.0
    for k in range(1, 3):
        total += 1 / (1 + np.log(1 + a ** 2) ** 2) / k
    if x > 0.25:
        return np.logaddexp(x, 0.5) + total
    return np.log1p(a ** 2) / (2 + np.cos(x + a)) - total


def boolean_mask(W):
    return np.sum(W[W > 0])


def boolean_mask_kept(W):
    return np.cumsum(W[W > 0])[-1]  # hostile: mask


def reshape_without_shape(W):
    return np.sum(W.reshape())  # hostile: reshape-nothing


def dot_with_out(W):
    return np.sum(np.dot(W, W, W))  # hostile: dot-out


def sum_with_dtype(W):
    return np.sum(W, dtype=int)  # hostile: sum-dtype


# Library code is a primitive or refused at the user's call, never read.
def numpy_constructor(W):
    return np.sum(np.ones(3) * W)  # works: a constant


def numpy_identity(W):
    return np.sum(np.eye(3) @ W)  # works: a constant


def numpy_polynomial_derivative(W):
    return np.sum(np.polyder(W) * W[:2])  # hostile: polyder


def numpy_indices(W):
    return np.sum(np.indices((3,))[0] * W)  # hostile: indices


def standard_library(x):
    return colorsys.rgb_to_yiq(x, 0.5, 0.25)[0]  # hostile: stdlib


def installed_package(W):
    return np.sum(optree.tree_map(np.sin, W))  # hostile: installed


def cube(x):
    return x ** 3


slope_by_hand = lambda x: ad.grad(cube)(x)  # noqa: E731


def sourced_inside(x):
    return x * ad.source(cube).count("x")  # hostile: source-inside
