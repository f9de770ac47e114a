"""x op= v on an array changes it in place (NumPy): rebinding x is right
only where nothing else holds the array. Where another name, a container,
a view or a helper's caller does, the statement is refused at its line
(sweep 4, bug 1: the derivative was another function's, silently)."""

import numpy as np
import pytest

import autodiff_ast as ad

X = np.array([0.5, -1.0, 2.0, 0.25])


def two_arrays_of_zeros(x):
    a = np.zeros(4)
    b = np.zeros(4)
    b += x
    return np.sum(a + b ** 2)


def its_own_copy(x):
    y = x * 1.0
    y *= 2.0
    return np.sum(y * x)


def the_argument(x):
    x += 1.0
    return np.sum(x ** 2)


def through_another_name(x):
    y = x * 1.0
    z = y
    z *= 2
    return np.sum(y * x)


def through_a_view(x):
    y = x * 1.0
    v = y[1:]
    v *= 3
    return np.sum(y ** 2)


def doubled(a):
    a *= 2.0
    return a


def through_a_helper(x):
    y = x * 1.0
    z = doubled(y)
    return np.sum(y * z)


def in_a_list(x):
    h = x * 1.0
    history = [h]
    h += 1.0
    return np.sum(history[0] * h)


def test_arrays_nothing_else_holds_are_changed_in_place():
    np.testing.assert_allclose(ad.grad(two_arrays_of_zeros)(X), 2 * X)
    np.testing.assert_allclose(ad.grad(its_own_copy)(X), 4 * X)
    x = X.copy()
    np.testing.assert_allclose(ad.grad(the_argument)(x), 2 * (X + 1))


@pytest.mark.parametrize("f, line, message", [
    (through_another_name, 35,
     "z *= 2 changes the array z holds in place, and y holds the same "
     "array: write z = z * 2 for a new array"),
    (through_a_view, 42,
     "v *= 3 changes the array v holds in place, and it is a view of "
     "another array, which changes with it: write v = v * 3 for a new "
     "array"),
    (through_a_helper, 47,
     "a *= 2.0 changes the array a holds in place, and it was passed to "
     "doubled, whose caller holds it too: write a = a * 2.0 for a new "
     "array"),
    (in_a_list, 60,
     "h += 1.0 changes the array h holds in place, and the list history "
     "holds it: write h = h + 1.0 for a new array"),
])
def test_arrays_held_elsewhere_are_refused_at_the_line(f, line, message):
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(f)(X)
    assert str(info.value) == f"{message} ({__file__}:{line})"


def through_a_local_helper(x):
    def doubled_here(a):
        a *= 2.0
        return a

    y = x * 1.0
    z = doubled_here(y)
    return np.sum(y * z)


def test_a_local_helper_changing_its_argument_is_refused():
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(through_a_local_helper)(X)
    assert str(info.value) == (
        "a *= 2.0 changes the array a holds in place, and it was passed to "
        "doubled_here, whose caller holds it too: write a = a * 2.0 for a "
        f"new array ({__file__}:95)")


def items_scaled_in_place(x):
    y = x * 1.0
    y[0] *= 3.0
    y[2] /= 4.0
    return np.sum(y ** 2)


def test_an_item_multiplied_or_divided_in_place():
    # was sweep 4, bug 6: refused, though y[0] += v worked
    np.testing.assert_allclose(ad.grad(items_scaled_in_place)(X),
                               2 * np.array([9.0, 1.0, 1 / 16, 1.0]) * X,
                               rtol=1e-14)
