"""Items of a list the function made, assigned, and `head, *rest = x`
(sweep 3 of user code, bug 28): the item is replaced as Python replaces
it (a list the function did not make is refused); the starred name holds
a new list of the items in between."""

import numpy as np

import autodiff_ast as ad
from helpers import assert_refused_at

ROW = np.array([0.3, -0.7, 1.2])


def squares_filled_then_swapped(x):
    parts = [0.0, 0.0, 0.0]
    for i in range(3):
        parts[i] = x[i] ** 2
    parts[1:] = [parts[2], parts[1]]
    return parts[0] + 2 * parts[1] + 3 * parts[2]


def first_item_of_an_argument_replaced(x, weights):
    weights[0] = x
    return weights[0] * x


def test_items_of_a_list_made_here_are_replaced():
    np.testing.assert_allclose(ad.grad(squares_filled_then_swapped)(ROW),
                               [2 * 0.3, 3 * 2 * -0.7, 2 * 2 * 1.2],
                               rtol=1e-15)


def test_items_of_an_argument_list_are_refused():
    assert_refused_at(
        lambda: ad.grad(first_item_of_an_argument_replaced)(1.0, [1.0, 2.0]),
        first_item_of_an_argument_replaced, 1,
        "weights[...] = ... would change a list the function did not make "
        "(an argument or a global), which a derivative cannot do: make a "
        "new list instead, weights = [...]")


def ends_and_middle(x, y, z):
    first, *middle, last = (x, y, z)
    return first * last + sum(middle) ** 2


def head_and_rest(x):
    head, *rest = x
    return head ** 2 + 2 * rest[0] + 3 * rest[-1]


def starred_inside(x):
    (a, *b), c = (x[0], x[1]), x[2]
    return a * c


def test_starred_unpacking_of_tuples_and_arrays():
    assert ad.grad(ends_and_middle, (0, 1, 2))(1.0, 2.0, 3.0) == (
        3.0, 4.0, 1.0)
    grad = ad.grad(head_and_rest)
    np.testing.assert_allclose(grad(ROW), [0.6, 2.0, 3.0], rtol=1e-15)
    # the rows are written out: four rows get code of their own
    np.testing.assert_allclose(grad(np.append(ROW, 5.0)),
                               [0.6, 2.0, 0.0, 3.0], rtol=1e-15)
    assert_refused_at(
        lambda: ad.grad(starred_inside)(ROW), starred_inside, 1,
        "*-unpacking is supported into a name of the outermost tuple only "
        "(head, *rest = x): unpack the inner tuple in a statement of its "
        "own")
