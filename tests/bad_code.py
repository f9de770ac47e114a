"""Functions autodiff_ast must refuse, each marked on the line it refuses.

The tests find the expected line number by the `# refused:` marker, so the
file can be edited without renumbering the tests.
"""

import logging
import math

import numpy as np

state = {"calls": 0}


def with_try(x):
    try:  # refused: try
        return math.log(x)
    except ValueError:
        return 0.0


def with_logging(x):
    logging.info("x = %s", x)  # refused: logging
    return x


def with_global(x):
    global state  # refused: global
    return x


def with_comprehension(x):
    terms = [x * w for w in x]  # refused: comprehension
    return np.sum(np.stack(terms))


def with_string(x):
    scale = "2.5"
    return x * scale  # refused: string


def with_mutation(x):
    state["calls"] = x  # refused: mutation
    return x


def with_varargs(*xs):  # refused: varargs
    return xs[0]


def with_unknown_callable(x):
    return np.random.normal(x)  # refused: unknown


def recursive(x):
    if x > 1:
        return recursive(x / 2)  # refused: recursion
    return x


def calls_bad_helper(x):
    return with_try(x) + 1


def no_return_on_some_path(x):  # refused: no-return
    if x > 0:
        return x


def returns_a_pair(x):  # refused: pair
    return x, x ** 2


def with_attribute_of_value(x):
    return x.real  # refused: attribute


def with_huge_loop(x):
    pair = (x, 0.0)  # a tuple changed in a loop: the loop is unrolled
    for k in range(10 ** 6):  # refused: huge-loop
        pair = (pair[1], pair[0] + x)
    return pair[0]


def log_of_negative_constant(x):
    return x * np.log(-1.0)  # refused: complex


def negative_base_power(x):  # refused: complex-derivative
    return (-8.0) ** x


def pair_by_a_list(x):  # refused: list-pair
    parts = [x]  # (a list: array code)
    return parts[0], parts[0] ** 2


def condition_by_a_list(x):  # refused: list-condition
    parts = [x]
    return parts[0] > 0


def square_by_a_list(x):  # refused: list-single
    parts = [x]
    return parts[0] ** 2


def pair_of_a_product(W, x):  # refused: product-pair
    return W @ x, x
