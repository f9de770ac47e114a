"""Lists a function builds for itself: ``history.append(h)`` and
``parts.extend(...)`` in loops that are written out or kept, ``xs + [h]``,
and the refusals where appending would change something the derivative
cannot see (an argument's list, a list under a break)."""

from __future__ import annotations

import inspect
import itertools
import textwrap

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import central_difference, numeric_gradient


def line_of(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


def code(source: str) -> str:
    return textwrap.dedent(source.split('"""\n', 1)[1])


def unrolled_history(x):
    history = []
    h = x
    for _ in range(4):
        h = np.tanh(h * 1.1 + 0.2)
        history.append(h)
    return np.sum(np.stack(history) ** 2)


def powers(x):
    terms = []
    for k in range(5):
        terms.append(x ** k / (k + 1))
    return sum(terms)


def concatenated(x):
    parts = [x]
    parts = parts + [np.sin(x), x ** 2]
    pair = (x,) + (np.cos(x),)
    return sum(parts) * pair[1] + pair[0]


def extended(x):
    parts = [x]
    parts.extend([np.exp(x), x * 3.0])
    parts.extend((x ** 2,))
    return np.prod(np.array(parts))


def aliased(x):
    values = []
    seen = values
    for k in range(3):
        values.append(x * k)
    return sum(seen) + x * len(seen)


def kept_powers(x, n):
    terms = []
    for k in range(n):
        terms.append(x ** k)
    return sum(terms)


def kept_rows(xs, w):
    outputs = []
    h = 0.0
    for x_t in xs:
        h = np.tanh(w * h + x_t)
        outputs.append(h)
    return np.sum(np.array(outputs) ** 2)


def appends_then_breaks(x, n):
    values = []
    for _ in range(n):
        x = x * 1.3
        values.append(x)
        if x > 5.0:
            break
    return np.sum(np.array(values))


def while_appends_then_breaks(x):
    values = []
    while True:
        x = x * 1.3
        values.append(x)
        if x > 5.0:
            break
    return np.sum(np.array(values))


def appends_to_its_argument(x, values):
    values.append(x)
    return sum(values)


def appends_before_a_break(x, n):
    values = []
    for _ in range(n):
        x = x * 1.3
        if x > 5.0:
            break
        values.append(x)
    return np.sum(np.array(values))


def appends_arrays_in_a_kept_loop(x, n):
    rows = []
    for k in range(n):
        rows.append(x * k)
    return np.sum(np.array(rows))


def concatenates_in_a_kept_loop(x, n):
    terms = []
    for k in range(n):
        terms = terms + [x ** k]
    return sum(terms)


def adds_a_list_to_a_number(x):
    return [x] + 1.0


@pytest.mark.parametrize("f, x", [
    (unrolled_history, 0.4), (powers, 0.7), (concatenated, 0.3),
    (extended, 0.6), (aliased, 0.5)])
def test_lists_built_in_written_out_code(f, x):
    assert ad.grad(f)(x) == pytest.approx(
        central_difference(f, (x,), 0), rel=1e-8)


def test_an_appended_history_reads_by_the_users_names():
    x = np.array([0.3, -0.5, 1.2])
    gradient = ad.grad(unrolled_history)(x)
    for i in range(3):
        assert gradient[i] == pytest.approx(central_difference(
            lambda v: unrolled_history(x[i] + v - x[i]), (x[i],), 0),
            rel=1e-8)
    lines = code(ad.source(ad.grad(unrolled_history), x)).splitlines()
    assert lines[:5] == [
        "h = np.tanh(1.1 * x + 0.2)",
        "h_1 = np.tanh(1.1 * h + 0.2)",
        "h_2 = np.tanh(1.1 * h_1 + 0.2)",
        "h_3 = np.tanh(1.1 * h_2 + 0.2)",
        "d_stacked = 2 * np.stack([h, h_1, h_2, h_3])"]


def test_appends_in_a_loop_kept_as_a_loop():
    for n in (4, 1, 0):
        expected = sum(k * 0.7 ** (k - 1) for k in range(1, n))
        assert ad.grad(kept_powers)(0.7, n) == pytest.approx(expected,
                                                             rel=1e-12)
    assert "for k in range(n):" in ad.source(ad.grad(kept_powers), 0.7, 4)
    xs = np.array([0.3, -0.5, 1.2, 0.1])
    gradient = ad.grad(kept_rows, argnums=1)(xs, 0.5)
    assert gradient == pytest.approx(
        central_difference(kept_rows, (xs, 0.5), 1), rel=1e-8)
    grad_xs = ad.grad(kept_rows)(xs, 0.5)
    for i in range(len(xs)):
        def along(v, i=i):
            moved = xs.copy()
            moved[i] = v
            return kept_rows(moved, 0.5)
        assert grad_xs[i] == pytest.approx(
            central_difference(along, (xs[i],), 0), rel=1e-7)


def test_appends_before_a_break_are_the_iterations_taken():
    # (an AttributeError once: the check for lists a breaking loop fills
    # read .fill of the list)
    for f, args in ((appends_then_breaks, (0.7, 10)),
                    (appends_then_breaks, (0.7, 3)),
                    (appends_then_breaks, (0.7, 0)),
                    (while_appends_then_breaks, (0.7,)),
                    (while_appends_then_breaks, (6.0,))):
        # d/dx0 of the sum of the values appended, x0 * 1.3 ** k each
        x, expected = args[0], 0.0
        steps = range(args[1]) if len(args) > 1 else itertools.count()
        for k in (k + 1 for k in steps):
            x = x * 1.3
            expected += 1.3 ** k
            if x > 5.0:
                break
        assert ad.grad(f)(*args) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("f, args, text, message", [
    (appends_to_its_argument, (0.5, [1.0, 2.0]), "values.append",
     "values.append(...) would change a list the function did not make (an "
     "argument or a global), which a derivative cannot do: make a new list "
     "instead, values = values + [...]"),
    (appends_before_a_break, (0.7, 10), "values.append",
     "values.append(...) in a loop whose trip count is known only when the "
     "function runs must be a statement of the loop itself, on a list made "
     "empty before it (not under an if, nor in a loop that can break): make "
     "values an array of zeros as long as the loop and fill values[i] "
     "instead"),
    (concatenates_in_a_kept_loop, (0.7, 4), "for k",
     "the loop makes terms a new list in each iteration: append to it "
     "instead (terms.append(...)), a list made empty before the loop"),
    (adds_a_list_to_a_number, (0.7,), "return",
     "a list + a number or an array is not supported: concatenate two lists "
     "or two tuples, "
     "or make the items arrays and use np.concatenate"),
])
def test_what_a_derivative_cannot_follow_is_refused(f, args, text, message):
    with pytest.raises(ad.UnsupportedCodeError) as error:
        ad.grad(f)(*args)
    assert str(error.value).startswith(message)
    assert f"test_lists.py:{line_of(f, text)}" in str(error.value)


def trajectory_energy(y0, k, n):
    trajectory = [y0]
    y = y0
    for _ in range(n):
        y = y - 0.1 * k * y ** 3
        trajectory.append(y)
    return np.sum(np.stack(trajectory) ** 2)


def test_arrays_appended_in_a_kept_loop_are_the_rows_of_one_array():
    # A trajectory: its rows are stored as the loop runs (np.empty((n,
    # d)), sized from the values the loop starts from), after the items
    # the list held before it.
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(
        ad.grad(appends_arrays_in_a_kept_loop)(x, 4), np.full(3, 6.0))
    y0 = np.array([0.5, -0.3])
    for n in (6, 1, 0):
        args = (y0, 0.7, n)
        gradient = ad.grad(trajectory_energy, (0, 1))(*args)
        for argnum in (0, 1):
            np.testing.assert_allclose(
                gradient[argnum],
                numeric_gradient(trajectory_energy, args, argnum),
                rtol=1e-8, atol=1e-9)
    source = ad.source(ad.grad(trajectory_energy, (0, 1)), y0, 0.7, 6)
    assert "    trajectory = np.empty((n, n_1))\n" in source
    assert "np.concatenate([stacked, trajectory])" in source


def halvings(x):
    hist = []
    while x > 0.1:
        x = x * 0.5
        hist.append(x)
    return np.sum(np.array(hist) ** 2)


def shrinking_trajectory(y0, k):
    trajectory = [y0]
    y = y0
    while True:
        y = y * k
        trajectory.append(y)
        if np.sum(y ** 2) < 0.01:
            break
    return np.sum(np.stack(trajectory) ** 2)


def test_a_list_a_while_loop_appends_to_is_read_as_an_array_after_it():
    # The generated loop appends to a Python list (it does not know the
    # count); read as an array after the loop, the list becomes one (it
    # raised TypeError: can't multiply sequence by non-int).
    assert ad.grad(halvings)(3.0) == 2 * 3.0 * sum(4.0 ** -k
                                                   for k in range(1, 6))
    assert ad.grad(halvings)(0.05) == 0.0
    assert "    hist = np.array(hist)\n" in ad.source(ad.grad(halvings), 3.0)
    y0 = np.array([0.5, 0.3])
    gradient = ad.grad(shrinking_trajectory, (0, 1))(y0, 0.6)
    for argnum in (0, 1):
        np.testing.assert_allclose(
            gradient[argnum],
            numeric_gradient(shrinking_trajectory, (y0, 0.6), argnum),
            rtol=1e-8)


def six_states(y0, k):
    states = []
    y = y0
    for _ in range(6):
        y = y - 0.1 * k * y ** 3
        states.append(y)
    return np.sum(np.array(states) ** 2)


def test_arrays_appended_in_a_loop_of_constant_length():
    # Kept a loop (its body reads y twice): the gradient was [0, 0]
    # with respect to y0 and raised NameError with respect to both.
    y0 = np.array([0.5, -0.3])
    gradient = ad.grad(six_states, (0, 1))(y0, 0.7)
    for argnum in (0, 1):
        np.testing.assert_allclose(
            gradient[argnum], numeric_gradient(six_states, (y0, 0.7), argnum),
            rtol=1e-8)
    np.testing.assert_allclose(ad.grad(six_states)(y0, 0.7), gradient[0],
                               rtol=1e-15)


# -- dicts the function makes ----------------------------------------------------

def keeps_activations_in_a_dict(W, x):
    cache = {}
    cache["z"] = W @ x
    cache["h"] = np.tanh(cache["z"])
    alias = cache
    alias[("out", 0)] = np.sum(cache["h"] ** 2)
    return cache[("out", 0)] + np.sum(cache["z"])


def sets_an_item_of_its_argument(params, x):
    params["b"] = x * 2
    return np.sum(params["b"] * params["w"])


def sets_a_key_a_kept_loop_counts(x, n):
    d = {}
    for i in range(n):
        d[i] = x * i
    return np.sum(d[0] * x)


def test_a_dict_made_here_has_items_set_by_key():
    W = np.array([[0.3, -0.2], [0.1, 0.5], [0.7, 0.0]])
    x = np.array([1.0, -2.0])
    grads = ad.grad(keeps_activations_in_a_dict, (0, 1))(W, x)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(
            g, numeric_gradient(keeps_activations_in_a_dict, (W, x), i),
            rtol=1e-7)
    hessian = ad.hessian(keeps_activations_in_a_dict, 1)(W, x)
    np.testing.assert_allclose(hessian, [
        numeric_gradient(lambda v: ad.grad(
            keeps_activations_in_a_dict, 1)(W, v)[i], (x,), 0)
        for i in range(2)], rtol=1e-6)


@pytest.mark.parametrize("f, args, text, message", [
    (sets_an_item_of_its_argument,
     ({"w": np.ones(2), "b": np.zeros(2)}, np.ones(2)), 'params["b"]',
     "params[...] = ... would change a dict the function did not make (an "
     "argument or a global), which a derivative cannot do: make a new dict "
     "instead, params = {...}"),
    (sets_a_key_a_kept_loop_counts, (np.ones(2), 3), "for i",
     "the loop changes d, which is not a number or an array: a loop whose "
     "trip count is known only when the function runs can change numbers "
     "and arrays")],
    ids=["argument", "kept loop"])
def test_setting_what_a_derivative_cannot_follow_is_refused(f, args, text,
                                                            message):
    with pytest.raises(ad.UnsupportedCodeError) as error:
        ad.grad(f, 1 if f is sets_an_item_of_its_argument else 0)(*args)
    assert str(error.value).startswith(message)
    assert f"test_lists.py:{line_of(f, text)}" in str(error.value)
