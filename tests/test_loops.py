"""Loops that stay loops: ``range(n)`` with ``n`` an argument and ``for
row in xs`` over an array are kept as loops in generated code, and
differentiated as loops (issue 11): values against closed forms and finite
differences, derivatives of derivatives, forward mode, the generated
source, and refusals at the user's line."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast import AutodiffError


def euler(x0, k, n_steps):
    x = x0
    for _ in range(n_steps):
        x = x + 0.1 * (-k * x)
    return x


def sines(x, n):
    total = 0.0
    for k in range(1, n + 1):
        total = total + np.sin(k * x) / k
    return total


def scalar_rnn(w, xs):
    h = 0.0
    for x_t in xs:
        h = np.tanh(w * h + x_t)
    return h


def logistic_map(x0, r, n):
    x = x0
    for i in range(n):
        x = r * x * (1 - x)
    return np.sum(x)


def powers(x, n):
    total = 0.0
    for k in range(n):
        total += x ** k
    return total


def million_steps(x):
    for k in range(10 ** 6):
        x = x + 1.0
    return x


def doubling(x):
    y = x
    for _ in range(40):
        y = np.sin(y) * y + x
    return y


def newton(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def scaled_root(a, b):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x * b


def halved(x):
    while x > 1:
        x = x / 2
    return x


def two_carried(x, n):
    a, b = x, 1.0
    for i in range(n):
        a, b = a * b + 0.5, np.sin(a) - 0.1 * i
    return a + b


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_euler_gradient_is_the_closed_form():
    x0, k, n = 1.3, 0.5, 100
    grad_x0, grad_k = ad.grad(euler, argnums=(0, 1))(x0, k, n)
    decay = 1 - 0.1 * k
    assert grad_x0 == pytest.approx(decay ** n, rel=1e-12)
    assert grad_k == pytest.approx(-0.1 * n * x0 * decay ** (n - 1),
                                   rel=1e-12)


def test_euler_gradient_reads_as_a_loop_run_backwards():
    grad = ad.grad(euler, argnums=(0, 1))
    source = ad.source(grad, 1.0, 0.5, 10)
    body = source[source.index('"""\n', source.index('"""') + 3) + 4:]
    assert body == '''\
    x = x0
    x_history = [0.0] * n_steps
    t = 1 - 0.1 * k
    for i in range(n_steps):
        x_history[i] = x
        x = t * x
    grad_x0 = 1
    grad_k = 0.0
    for i_1 in reversed(range(n_steps)):
        x_i = x_history[i_1]
        grad_k = grad_k - 0.1 * grad_x0 * x_i
        grad_x0 = t * grad_x0
    return grad_x0, grad_k
'''


def test_one_code_serves_every_trip_count_including_zero():
    grad = ad.grad(euler, argnums=(0, 1))
    for n in (0, 1, 7, 1000):
        grad_x0, grad_k = grad(2.0, 0.3, n)
        assert grad_x0 == pytest.approx(0.97 ** n, rel=1e-12)
        assert grad_k == pytest.approx(-0.1 * n * 2.0 * 0.97 ** max(n - 1, 0),
                                       rel=1e-12, abs=1e-300)


def test_second_derivatives_and_hessian_through_the_loop():
    x0, k, n = 1.3, 0.5, 12
    decay = 1 - 0.1 * k
    d2_dk2 = 0.01 * n * (n - 1) * x0 * decay ** (n - 2)
    second = ad.grad(ad.grad(euler, argnums=1), argnums=1)
    assert second(x0, k, n) == pytest.approx(d2_dk2, rel=1e-12)
    hessian = ad.hessian(euler, argnums=(0, 1))(x0, k, n)
    expected = ((0.0, -0.1 * n * decay ** (n - 1)),
                (-0.1 * n * decay ** (n - 1), d2_dk2))
    np.testing.assert_allclose(np.array(hessian, dtype=float), expected,
                               rtol=1e-12, atol=1e-15)


def test_forward_mode_carries_the_tangent_in_the_loop():
    value, tangent = ad.jvp(lambda x0, k: euler(x0, k, 9), (1.3, 0.5),
                            (0.25, -1.0))
    decay = 0.95
    assert value == pytest.approx(1.3 * decay ** 9, rel=1e-12)
    assert tangent == pytest.approx(
        0.25 * decay ** 9 + 1.3 * 9 * decay ** 8 * 0.1, rel=1e-12)


def test_the_loop_variable_is_read_in_the_body():
    grad = ad.grad(sines)
    for n in (1, 50):
        assert grad(0.3, n) == pytest.approx(
            sum(np.cos(k * 0.3) for k in range(1, n + 1)), rel=1e-12)
    third = ad.derivative(sines, 3)
    assert third(0.3, 20) == pytest.approx(
        -sum(k ** 2 * np.cos(k * 0.3) for k in range(1, 21)), rel=1e-10)


def test_an_augmented_assignment_with_the_loop_variable_as_a_power():
    # Refused before loops stayed loops: "range() bounds must be constant".
    assert ad.grad(powers)(0.7, 6) == pytest.approx(
        sum(k * 0.7 ** (k - 1) for k in range(1, 6)), rel=1e-12)
    assert ad.grad(powers)(0.7, 0) == 0.0


def test_long_constant_loops_stay_loops():
    # Both were refused when loops were unrolled: 10**6 statements, and
    # 2**40 operations written out (y is read twice per step).
    assert ad.grad(million_steps)(2.0) == 1.0
    assert ad.source(ad.grad(million_steps), 2.0).endswith(
        '"""\n    return 1\n')  # its tangent never changes: no loop
    grad_x, grad_k = ad.grad(lambda x, k: million_steps(x) * k,
                             argnums=(0, 1))(2.0, 3.0)
    assert (grad_x, grad_k) == (3.0, 1000002.0)
    assert ad.grad(doubling)(0.3) == pytest.approx(
        central(doubling, 0.3), rel=1e-7)
    assert ad.derivative(doubling, 2)(0.3) == pytest.approx(
        central(ad.grad(doubling), 0.3), rel=1e-6)


def newton_steps(a):
    x = a
    for _ in range(3):
        x = 0.5 * (x + a / x)
    return x


def test_a_short_loop_that_reads_its_value_twice_stays_a_loop():
    # Written out, x doubles at each step; as a loop, the n-th derivative
    # carries the tangents of x once each, not 2^n copies.
    third = ad.derivative(newton_steps, 3)
    h = 1e-3
    second = ad.derivative(newton_steps, 2)
    assert third(2.0) == pytest.approx(
        (second(2.0 + h) - second(2.0 - h)) / (2 * h), rel=1e-5)
    source = ad.source(third, 2.0)
    assert "for _ in range(3):" in source  # (the count is not read)
    assert source.count("tangent_tangent_tangent") <= 4


def test_short_constant_loops_are_unrolled_for_their_closed_forms():
    def cube_by_steps(x):
        y = 1.0
        for _ in range(3):
            y = y * x
        return y

    assert ad.source(ad.grad(cube_by_steps)).endswith(
        '"""\n    return 3 * x ** 2\n')


def test_a_range_bound_must_be_an_integer():
    with pytest.raises(AutodiffError, match=r"range\(\) bounds must be "
                       r"integers: pass the number of steps as an int "
                       r"\(.*test_loops.py:\d+\)"):
        ad.grad(powers)(0.7, 6.0)


def test_a_loop_over_the_rows_of_an_array():
    grad = ad.grad(scalar_rnn, argnums=(0, 1))
    for length in (7, 30):  # one code, any length
        xs = np.linspace(-1, 1, length)
        grad_w, grad_xs = grad(0.7, xs)
        assert grad_w == pytest.approx(
            central(lambda w: scalar_rnn(w, xs), 0.7), rel=1e-7)
        for j in (0, length // 2, length - 1):
            e = np.eye(length)[j]
            assert grad_xs[j] == pytest.approx(
                central(lambda t: scalar_rnn(0.7, xs + t * e), 0.0),
                rel=1e-6, abs=1e-9)
    assert "for i in range(n):" in ad.source(grad, 0.7, np.ones(4))


def test_an_array_carried_through_the_loop():
    x0 = np.array([0.2, 0.5, 0.7])
    grad_x0, grad_r = ad.grad(logistic_map, argnums=(0, 1))(x0, 3.1, 15)
    for j in range(3):
        e = np.eye(3)[j]
        assert grad_x0[j] == pytest.approx(
            central(lambda t: logistic_map(x0 + t * e, 3.1, 15), 0.0),
            rel=1e-6)
    assert grad_r == pytest.approx(
        central(lambda r: logistic_map(x0, r, 15), 3.1), rel=1e-6)


def test_values_that_read_each_other_are_updated_together():
    grad = ad.grad(two_carried)
    assert grad(0.4, 6) == pytest.approx(
        central(lambda x: two_carried(x, 6), 0.4), rel=1e-7)
    source = ad.source(ad.grad(two_carried), 0.4, 6)
    assert "a_next = " in source or "a, b = " in source
    assert max(len(line) for line in source.splitlines()) <= 79


def body_with_a_product(w, A, n):
    for _ in range(n):
        w = A @ w
    return np.sum(w)


def body_with_a_return(x, n):
    for _ in range(n):
        x = x * 0.5
        if x < 1.0:
            return x
    return x


def nested_counts(x, n):
    s = 0.0
    for i in range(n):
        for j in range(n):
            s = s + np.sin(x * (i + j))
    return s


def test_kept_loops_that_once_refused_work():
    # 3 -> 1.5 -> 0.75 returns x / 4; with 1 step, x / 2 after the loop
    assert ad.grad(body_with_a_return)(3.0, 4) == 0.25
    assert ad.grad(body_with_a_return)(3.0, 1) == 0.5
    assert ad.grad(body_with_a_return)(3.0, 0) == 1.0
    A = np.array([[0.5, 1.0], [-0.25, 2.0]])
    np.testing.assert_allclose(
        ad.grad(body_with_a_product)(np.ones(2), A, 3),
        np.linalg.matrix_power(A.T, 3) @ np.ones(2), rtol=1e-14)


def deep(x, n):
    s = 0.5
    for i in range(n):
        for j in range(n):
            for k in range(i + j):
                s = s + 0.1 * np.sin(x * s + k)
                if s > 3:
                    break
    return s


def deep_pair(x, k, n):
    s = 0.5
    for i in range(n):
        for j in range(i):
            s = s * 0.9 + np.sin(x * s + k * j)
    return s


def test_loops_nested_three_deep_stay_loops():
    for n in (0, 1, 2, 4):
        assert ad.grad(deep)(0.3, n) == pytest.approx(
            central(lambda x: deep(x, n), 0.3), rel=1e-7, abs=1e-10)
        assert ad.grad(ad.grad(deep))(0.3, n) == pytest.approx(
            central(lambda x: ad.grad(deep)(x, n), 0.3), rel=1e-6,
            abs=1e-9)
    assert ad.grad(nested_counts)(0.3, 3) == pytest.approx(
        central(lambda x: nested_counts(x, 3), 0.3), rel=1e-7)
    source = ad.source(ad.grad(deep), 0.3, 4)
    assert source.count(" in range(") == 3  # forward mode: one nest
    gradient = ad.grad(deep_pair, argnums=(0, 1))
    hessian = ad.hessian(deep_pair, argnums=(0, 1))(0.3, 0.7, 5)
    assert hessian[0][0] == pytest.approx(
        central(lambda x: gradient(x, 0.7, 5)[0], 0.3), rel=1e-6)
    assert hessian[1][1] == pytest.approx(
        central(lambda k: gradient(0.3, k, 5)[1], 0.7), rel=1e-6)
    assert hessian[0][1] == pytest.approx(hessian[1][0], rel=1e-12)
    # reverse mode: the nest forwards, then backwards, running the inner
    # loop forwards again (from what the outer stored) and backwards
    assert ad.source(gradient, 0.3, 0.7, 5).count("range(") == 2 + 3


def fills_an_item(x, n):
    acc = np.zeros(2)
    for _ in range(n):
        acc[0] = acc[0] + x
    return np.sum(acc)


def test_an_array_filled_in_a_kept_loop_carries_its_items():
    # (once refused) acc[0] is x added n times
    for n in (0, 1, 3):
        assert ad.value_and_grad(fills_an_item)(0.5, n) == (0.5 * n, n)


def test_a_while_loop_differentiates_the_iterations_it_ran():
    import mpmath
    for order in (1, 2, 3):
        want = float(mpmath.diff(mpmath.sqrt, mpmath.mpf(2), order))
        assert ad.derivative(newton, order)(2.0) == pytest.approx(
            want, rel=1e-9)
    # Halving 5.0 three times: the derivative of the steps taken, 1/8.
    assert ad.grad(halved)(5.0) == 0.125
    assert ad.grad(halved)(0.5) == 1.0  # no iteration at all


def test_a_while_loop_run_backwards_counts_its_iterations():
    grad = ad.grad(scaled_root, argnums=(0, 1))
    grad_a, grad_b = grad(2.0, 3.0)
    assert grad_a == pytest.approx(3 * 0.5 / np.sqrt(2), rel=1e-12)
    assert grad_b == pytest.approx(np.sqrt(2), rel=1e-12)
    assert grad(1.0, 3.0) == (3.0, 1.0)  # the condition is false at once
    source = ad.source(grad, 2.0, 3.0)
    assert "    while abs(x ** 2 - a) > 1e-12:\n" in source
    assert "    for i in reversed(range(iterations)):\n" in source
    hessian = ad.hessian(scaled_root, argnums=(0, 1))(2.0, 3.0)
    np.testing.assert_allclose(
        np.array(hessian, dtype=float),
        [[-3 * 0.25 * 2 ** -1.5, 0.5 / np.sqrt(2)], [0.5 / np.sqrt(2), 0]],
        rtol=1e-10, atol=1e-15)


def while_with_else(x):
    while x > 1:
        x = x / 2
    else:
        x = x + 1
    return x


def test_while_else_is_refused_at_its_line():
    line = inspect.getsourcelines(while_with_else)[1] + 1
    with pytest.raises(AutodiffError) as caught:
        ad.grad(while_with_else)(3.0)
    assert str(caught.value) == (
        "while ... else is not supported: put the else block after the "
        f"loop ({__file__}:{line})")


def rnn_by_index(w, xs):
    h = 0.0
    for i in range(len(xs)):
        h = np.tanh(w * h + xs[i])
    return h


def enumerated(w, xs):
    h = 0.0
    for i, x_t in enumerate(xs):
        h = np.tanh(w * h + x_t) + 0.01 * i
    return h


def zipped(w, xs, ys):
    total = 0.0
    for a, b in zip(xs, ys):
        total = total + (w * a - b) ** 2
    return total


def summed_terms(x, n):
    return sum(np.sin(k * x) / k for k in range(1, n + 1))


def summed_list(x):
    return sum([np.cos(k * x) for k in range(30)])


def few_terms(x):
    return sum(x ** k for k in range(4))


def test_rows_read_by_index_enumerate_and_zip():
    xs, ys = np.linspace(-1, 1, 7), np.linspace(0, 2, 9)
    by_index = ad.grad(rnn_by_index, argnums=(0, 1))(0.7, xs)
    by_row = ad.grad(scalar_rnn, argnums=(0, 1))(0.7, xs)
    assert by_index[0] == pytest.approx(by_row[0], rel=1e-14)
    np.testing.assert_allclose(by_index[1], by_row[1], rtol=1e-14)
    assert "    for i in range(xs.shape[0]):\n        xs_part = xs[i]\n" in \
        ad.source(ad.grad(rnn_by_index), 0.7, xs)  # one code, every length
    assert ad.grad(enumerated)(0.7, xs) == pytest.approx(
        central(lambda w: enumerated(w, xs), 0.7), rel=1e-7)
    assert ad.grad(zipped)(0.7, xs, ys) == pytest.approx(
        central(lambda w: zipped(w, xs, ys), 0.7), rel=1e-7)
    # zip stops at the shorter array, as Python's.
    assert "range(min(xs.shape[0], ys.shape[0]))" in ad.source(
        ad.grad(zipped), 0.7, xs, ys)


def test_sums_of_generators_are_loops():
    assert ad.grad(summed_terms)(0.3, 40) == pytest.approx(
        sum(np.cos(k * 0.3) for k in range(1, 41)), rel=1e-12)
    assert ad.grad(summed_list)(0.3) == pytest.approx(
        sum(-k * np.sin(k * 0.3) for k in range(30)), rel=1e-12)
    # Four terms are written out, for the closed form.
    assert ad.source(ad.grad(few_terms)).endswith(
        '"""\n    return 3 * x ** 2 + 2 * x + 1\n')


def _pasted(source: str, tmp_path, name: str):
    """The functions of generated ``source`` as a user pastes them into a
    module of their own."""
    import importlib.util
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_printed_loops_are_read_back_and_differentiated_again(tmp_path):
    # Closure: the printed gradient (a loop storing what it carries, a
    # loop run backwards reading it) is valid input to grad again.
    printed = _pasted(ad.source(ad.grad(euler, argnums=(0, 1)), 1.3, 0.5,
                                12), tmp_path, "printed_euler")
    again = ad.grad(lambda x0, k, n: printed.grad_euler(x0, k, n)[1],
                    argnums=1)
    assert again(1.3, 0.5, 12) == pytest.approx(
        0.01 * 12 * 11 * 1.3 * 0.95 ** 10, rel=1e-12)
    xs = np.linspace(-1, 1, 9)
    rnn = _pasted(ad.source(ad.grad(scalar_rnn, argnums=(0, 1)), 0.7, xs),
                  tmp_path, "printed_rnn")
    second = ad.grad(lambda w, xs: rnn.grad_scalar_rnn(w, xs)[0])
    assert second(0.7, xs) == pytest.approx(
        central(lambda w: ad.grad(scalar_rnn)(w, xs), 0.7), rel=1e-6)


def test_a_printed_while_loop_is_read_back(tmp_path):
    printed = _pasted(ad.source(ad.grad(scaled_root, argnums=(0, 1)), 2.0,
                                3.0), tmp_path, "printed_root")
    assert "x_history.append(x)" in ad.source(
        ad.grad(scaled_root, argnums=(0, 1)), 2.0, 3.0)
    again = ad.grad(lambda a, b: printed.grad_scaled_root(a, b)[0])
    assert again(2.0, 3.0) == pytest.approx(-3 * 0.25 * 2 ** -1.5,
                                            rel=1e-9)


def filled_list(x, n):
    values = [0.0] * n
    for i in range(n):
        values[i] = np.sin(i * x)
    total = 0.0
    for i in range(n):
        total = total + values[i] * values[i]
    return total


def partly_filled(x, n):
    values = [0.0] * (n + 1)
    for i in range(n):
        values[i] = np.sin(i * x)
    return values[0]


def test_a_list_filled_by_a_loop_of_its_length_is_its_values():
    assert ad.grad(filled_list)(0.4, 12) == pytest.approx(
        central(lambda x: filled_list(x, 12), 0.4), rel=1e-7)
    # A list longer than the loop keeps numbers the loop does not write:
    # not read as the loop's values, and refused, not wrong.
    line = inspect.getsourcelines(partly_filled)[1] + 2
    with pytest.raises(AutodiffError) as caught:
        ad.grad(partly_filled)(0.4, 12)
    assert str(caught.value) == (
        "values is a list this loop fills: make it as long as the loop "
        "([0.0] * n for range(n)) and fill it at the loop's variable "
        f"(values[i] = ...), one number each iteration ({__file__}:{line})")


def stacked_powers(x):
    return np.sum(np.stack([x ** i for i in range(4)]))


def odd_sines(x):
    return sum(np.sin(k * x) for k in range(6) if k % 2)


def table(x):
    return np.sum(np.array([[x * i + j for j in range(2)]
                            for i in range(3)]) ** 2)


def over_weights(x):
    return sum([w * np.tanh(w * x) for w in (0.5, 1.0, 2.0)])


def test_comprehensions_over_counts_and_items_known_now():
    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(ad.grad(stacked_powers)(x),
                               1 + 2 * x + 3 * x ** 2, rtol=1e-14)
    assert ad.grad(odd_sines)(0.3) == pytest.approx(
        sum(k * np.cos(k * 0.3) for k in (1, 3, 5)), rel=1e-14)
    assert ad.grad(table)(0.5) == pytest.approx(
        sum(2 * (0.5 * i + j) * i for i in range(3) for j in range(2)),
        rel=1e-14)
    assert ad.grad(over_weights)(0.3) == pytest.approx(
        sum(w * w / np.cosh(w * 0.3) ** 2 for w in (0.5, 1.0, 2.0)),
        rel=1e-12)


def power_series(x, n):
    total = 0.0
    for k in range(n):
        total = total + x ** k / (k + 1)
    return total


def test_powers_of_a_counter_are_differentiated_at_zero():
    # d/dx x ** k is k * x ** (k - 1): SymPy's k * x ** k / x divided by
    # zero at x = 0 (ZeroDivisionError) where every term is finite.
    derivative = power_series
    for order in range(1, 4):
        derivative = ad.grad(derivative)
        for x in (0.0, 0.5, -1.5):
            expected = sum(
                np.prod(range(k - order + 1, k + 1)) * x ** (k - order)
                / (k + 1) for k in range(order, 6))
            assert derivative(x, 6) == pytest.approx(expected, rel=1e-12)
        assert derivative(0.0, 0) == 0
    source = ad.source(ad.grad(power_series), 0.5, 6)
    assert source.split('"""\n', 1)[1] == (
        "    tangent_total = 0.0\n"
        "    for k in range(n):\n"
        "        tangent_total = k * x ** np.maximum(k - 1, 0) / (k + 1)"
        " + tangent_total\n"
        "    return tangent_total\n")


def monomial(x, n):
    return 2.0 * x ** n


def test_powers_of_an_argument_follow_the_power_rule_at_zero():
    # It was 2 * n * x ** n / x: nan at x = 0 for arrays and
    # ZeroDivisionError for numbers, where JAX gives 0 (n > 1) and 2; and
    # then 2 * n * x ** (n - 1), nan at n = 0 (0 * 0.0 ** -1; JAX: 0).
    assert ad.source(ad.grad(monomial)).split('"""\n', 1)[1] == (
        "    return 2 * n * x ** (n - 1 + (n == 0))\n")
    assert ad.grad(monomial)(0.0, 3) == 0
    assert ad.grad(monomial)(0.0, 0) == 0
    assert ad.grad(monomial)(0.0, 1) == 2
    assert ad.hessian(monomial)(0.0, 2) == 4
    np.testing.assert_array_equal(ad.grad(monomial)(np.array([0.0, 1.0]), 2),
                                  [0.0, 4.0])


def stepped_by_a_leaf(p):
    x = p["x"]
    for _ in range(p["steps"]):
        x = np.sin(x)
    return x


def test_a_step_count_among_what_is_differentiated_is_named():
    # an int leaf of a differentiated dict is taken as a float, as grad
    # takes int arguments: the refusal says so, not only "pass an int"
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(stepped_by_a_leaf)({"x": 0.5, "steps": 3})
    assert str(info.value).startswith(
        "range() bounds must be integers: pass the number of steps as an "
        "int (p['steps'] is differentiated, as argnums asks, so it is a "
        "float here: pass it as an argument argnums leaves out)")
    assert info.value.lineno == stepped_by_a_leaf.__code__.co_firstlineno + 2


def rescaled_by_one(x):
    for _ in range(12):  # (kept a loop; its tangent stays 1 throughout)
        x = x * 1.0
    return np.where(x > 0, x ** 2, -x)


def test_a_tangent_that_stays_one_is_not_written_as_a_factor():
    # was: return 1 * np.where(x > 0, 2 * x, -1), and the Hessian
    # return 1 * np.where(x > 0, 2 * 1, 0)
    for transform, body in [
            (ad.grad, "    return np.where(x > 0, 2 * x, -1)\n"),
            (ad.hessian, "    return np.where(x > 0, 2, 0)\n")]:
        derivative = transform(rescaled_by_one)
        assert ad.source(derivative, 0.7).endswith('    """\n' + body)
        assert derivative(0.7) == pytest.approx(1.4 if transform is ad.grad
                                                else 2.0)
        assert derivative(-0.5) == pytest.approx(
            -1.0 if transform is ad.grad else 0.0)
