"""Loops kept as loops whose body runs array operations on the values it
carries (``h = np.tanh(W @ h + x_t)``, issue 11): the operations run in
each iteration, and a gradient runs them again over what the forward loop
stored, then back through them by the same rules as the rest of the
program, accumulating what flows into values from before the loop."""

from __future__ import annotations

import sys
import pathlib
import textwrap

import numpy as np
import pytest

import autodiff_ast as ad

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "benchmarks"))
from bench_growth import rnn_inputs, rnn_loss, rnn_reference  # noqa: E402


def code(source: str) -> str:
    """The statements of a generated function."""
    return textwrap.dedent(source.split('"""\n', 1)[1])


def central(f, x, h=1e-6):
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[index] = h
        out[index] = (f(x + step) - f(x - step)) / (2 * h)
    return out


def recurrence(W, xs):
    h = np.zeros(W.shape[0])
    for x_t in xs:
        h = np.tanh(W @ h + x_t)
    return np.sum(h ** 2)


def test_a_recurrence_through_a_matrix():
    rng = np.random.default_rng(1)
    W, xs = rng.normal(size=(3, 3)) / 2, rng.normal(size=(6, 3))
    for inputs in (xs, xs[:1], xs[:0]):
        grad_W, grad_xs = ad.grad(recurrence, argnums=(0, 1))(W, inputs)
        np.testing.assert_allclose(
            grad_W, central(lambda w: recurrence(w, inputs), W), atol=1e-8)
        if len(inputs):
            np.testing.assert_allclose(
                grad_xs, central(lambda x: recurrence(W, x), inputs),
                atol=1e-8)
        assert grad_xs.shape == inputs.shape


def test_the_gradient_runs_the_operations_back_in_a_loop():
    W, xs = np.eye(3) / 2, np.ones((4, 3))
    source = ad.source(ad.grad(recurrence), W, xs)
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    assert textwrap.indent(code(source), "    ") in readme
    assert code(source) == textwrap.dedent(
        '''\
        n = W.shape[0]
        n_1 = xs.shape[0]
        h = np.zeros(n)
        h_history = np.empty((n_1, n))
        for i in range(n_1):
            x_t = xs[i]
            W_h = W @ h
            h_history[i] = h
            h = np.tanh(W_h + x_t)
        W_T = W.T
        grad_h = 2 * h
        grad_W = np.zeros(W.shape)
        for i_1 in reversed(range(n_1)):
            h_i = h_history[i_1]
            x_t_i = xs[i_1]
            W_h_1 = W @ h_i
            d_W_h_1 = grad_h * (1 - np.tanh(W_h_1 + x_t_i) ** 2)
            d_W_h_1_column = d_W_h_1[:, None]
            grad_h = W_T @ d_W_h_1
            grad_W = d_W_h_1_column * h_i + grad_W
        return grad_W
        ''')


def test_two_layer_rnn_equals_backpropagation_through_time():
    params, xs = rnn_inputs(20, 8)
    got = ad.grad(rnn_loss)(params, xs)
    want = rnn_reference(params, xs)
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10,
                                   atol=1e-12)
    # One code for every length and width (sizes are read at run time).
    params, xs = rnn_inputs(7, 5)
    got = ad.grad(rnn_loss)(params, xs)
    for name, value in rnn_reference(params, xs).items():
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12)


def damped(v, A, n):
    for i in range(n):
        v = 0.5 * (A @ v) + 0.1 * v
        if np.sum(v * v) < 1e-3:
            break
    return np.sum(v)


def test_array_operations_with_a_break():
    rng = np.random.default_rng(2)
    A, v = rng.normal(size=(4, 4)), rng.normal(size=4)
    for n in (0, 3, 40):
        np.testing.assert_allclose(
            ad.grad(damped)(v, A, n), central(lambda x: damped(x, A, n), v),
            atol=1e-7)
        np.testing.assert_allclose(
            ad.grad(damped, argnums=1)(v, A, n),
            central(lambda a: damped(v, a, n), A), atol=1e-7)


def settles(v, A):
    while np.sum(v * v) > 1e-3:
        v = 0.5 * (A @ v)
    return np.sum(v)


def test_hessian_and_jvp_carry_tangents_through_the_operations():
    rng = np.random.default_rng(1)
    W, xs = rng.normal(size=(3, 3)) / 2, rng.normal(size=(6, 3))
    gradient = ad.grad(recurrence)
    hessian = ad.hessian(recurrence)(W, xs)
    assert hessian.shape == (3, 3, 3, 3)
    for index in np.ndindex(3, 3):
        step = np.zeros((3, 3))
        step[index] = 1e-6
        np.testing.assert_allclose(
            hessian[..., index[0], index[1]],
            (gradient(W + step, xs) - gradient(W - step, xs)) / 2e-6,
            atol=1e-8)
    direction = rng.normal(size=(3, 3))
    value, tangent = ad.jvp(lambda w: recurrence(w, xs), (W,), (direction,))
    assert value == recurrence(W, xs)
    assert tangent == pytest.approx(np.sum(gradient(W, xs) * direction),
                                    rel=1e-12)


def test_array_operations_in_a_while_condition_run_in_each_iteration():
    # (they were refused: sweep 3, bug 10) v halves 6 times, until
    # 3 * 4 ** -k <= 1e-3; the result is 1^T (A / 2)^6 v
    g_v, g_A = ad.grad(settles, (0, 1))(np.ones(3), np.eye(3))
    np.testing.assert_allclose(g_v, np.full(3, 0.5 ** 6), rtol=1e-15)
    np.testing.assert_allclose(g_A, np.full((3, 3), 6 * 0.5 ** 6),
                               rtol=1e-14)


def scaled(w, A, xs):
    h = np.zeros(A.shape[0])
    for x_t in xs:
        h = np.tanh(w * (A @ h) + x_t)
    return np.sum(h)


def power_iteration(A, v):
    while True:
        w = A @ v
        w = w / np.sqrt(np.sum(w * w))
        change = np.sum((w - v) ** 2)
        v = w
        if change < 1e-20:
            break
    return v @ A @ v


def test_a_number_and_a_while_loop_through_array_operations():
    rng = np.random.default_rng(3)
    A, xs = rng.normal(size=(3, 3)), rng.normal(size=(5, 3))
    # One number: its tangent is carried through the operations.
    assert ad.grad(scaled)(0.7, A, xs) == pytest.approx(
        (scaled(0.7 + 1e-6, A, xs) - scaled(0.7 - 1e-6, A, xs)) / 2e-6,
        rel=1e-7)
    # The largest eigenvalue of a symmetric matrix; its gradient is the
    # outer product of the eigenvector with itself.
    S = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    values, vectors = np.linalg.eigh(S)
    top = vectors[:, -1]
    assert power_iteration(S, np.ones(3)) == pytest.approx(values[-1],
                                                          rel=1e-12)
    np.testing.assert_allclose(ad.grad(power_iteration)(S, np.ones(3)),
                               np.outer(top, top), atol=1e-6)


def states(W, xs):
    out = np.zeros((xs.shape[0], W.shape[0]))
    h = np.zeros(W.shape[0])
    for t in range(len(xs)):
        h = np.tanh(W @ h + xs[t])
        out[t] = h
    return np.sum(out ** 2)


def histogram(x, n):
    counts = np.zeros(4)
    for i in range(n):
        counts[i % 4] += np.sin(x * i)
    return np.sum(counts ** 3)


def test_arrays_filled_in_a_loop():
    rng = np.random.default_rng(4)
    W, xs = rng.normal(size=(3, 3)) / 2, rng.normal(size=(15, 3))
    grad_W, grad_xs = ad.grad(states, argnums=(0, 1))(W, xs)
    np.testing.assert_allclose(grad_W, central(lambda w: states(w, xs), W),
                               atol=1e-8)
    np.testing.assert_allclose(grad_xs, central(lambda x: states(W, x), xs),
                               atol=1e-8)
    # A row per iteration is stored as the loop runs: the gradient keeps
    # no copy of the whole array per iteration (memory linear in length).
    source = ad.source(ad.grad(states), W, xs)
    assert "        out[t] = tanh\n" in source
    assert "out_history" not in source and "np.copy" not in source
    for n in (0, 3, 11):
        assert ad.grad(histogram)(0.3, n) == pytest.approx(
            (histogram(0.3 + 1e-6, n) - histogram(0.3 - 1e-6, n)) / 2e-6,
            rel=1e-7, abs=1e-12)


def binned(x):
    counts = np.zeros(4)
    for i in range(x.shape[0]):
        counts[i % 4] += x[i] ** 2
    return np.sum(np.sin(counts))


def test_a_carried_array_is_filled_in_place():
    # One copy of the counts per iteration would make the loop O(n^2) in
    # the number of bins; the gradient stores no history it never reads,
    # and cos(counts), the same in every iteration, is computed once.
    x = np.linspace(-1.0, 2.0, 11)
    assert code(ad.source(ad.grad(binned), x)) == textwrap.dedent("""\
        n = x.shape[0]
        counts_1 = np.zeros(4)
        for i in range(n):
            x_part = x[i]
            index_2 = i % 4
            counts_values_2 = x_part ** 2
            counts_1[index_2] += counts_values_2
        grad_counts_1 = np.cos(counts_1)
        grad_x = np.empty(n)
        for i_1 in reversed(range(n)):
            x_part_i = x[i_1]
            index_1_1 = i_1 % 4
            d_counts_values_1_1 = grad_counts_1[index_1_1]
            grad_x[i_1] = 2 * d_counts_values_1_1 * x_part_i
        return grad_x
        """)
    np.testing.assert_allclose(ad.grad(binned)(x), central(binned, x),
                               rtol=1e-7)


def filled_after_a_read(x):
    acc = np.zeros(3)
    acc[:] = x[:3]
    first = acc * 2  # computed before the fills: keeps its value
    for i in range(x.shape[0]):
        acc[i % 3] += x[i] ** 2
    return np.sum(np.sin(acc)) + np.sum(first * x[:3])


def test_an_array_read_before_its_fills_keeps_its_value():
    x = np.linspace(-1.0, 1.0, 7)
    np.testing.assert_allclose(ad.grad(filled_after_a_read)(x),
                               central(filled_after_a_read, x), rtol=1e-7)
    # The printed gradient, run as a module, leaves its argument alone.
    before = x.copy()
    namespace: dict = {"np": np}
    exec(ad.source(ad.grad(filled_after_a_read), x), namespace)
    np.testing.assert_allclose(namespace["grad_filled_after_a_read"](x),
                               central(filled_after_a_read, x), rtol=1e-7)
    np.testing.assert_array_equal(x, before)


def filled_beside_its_twin(x):
    acc = np.ones(3)
    for i in range(x.shape[0]):
        acc[i % 3] += x[i] ** 2
    other = np.ones(3) * 2.0  # equal to acc's start: may share its name
    return np.sum(np.sin(acc)) + np.sum(other * x[:3])


def test_an_array_filled_in_place_is_never_another_names():
    x = np.linspace(-1.0, 1.0, 7)
    source = ad.source(ad.grad(filled_beside_its_twin), x)
    assert "    acc_1 = np.copy(ones)\n" in source  # filled, not `ones`
    namespace: dict = {"np": np}
    exec(source, namespace)
    np.testing.assert_allclose(
        namespace["grad_filled_beside_its_twin"](x),
        central(filled_beside_its_twin, x), rtol=1e-7)


def decay(x0, k, n):
    x = x0
    for _ in range(n):
        x = x + 0.1 * (-k * x * x)
    return np.sum(x ** 3)


def test_hessian_of_an_elementwise_loop_over_arrays():
    # A batch of tangents (one per input element) goes through the loop
    # with the partial derivatives given batch axes (once refused).
    x0 = np.array([0.5, 1.0, 1.5])
    gradient = ad.grad(decay)
    for n in (0, 1, 20):
        hessian = ad.hessian(decay)(x0, 0.7, n)
        columns = [(gradient(x0 + step, 0.7, n) - gradient(x0 - step, 0.7,
                                                           n)) / 2e-6
                   for step in np.eye(3) * 1e-6]
        np.testing.assert_allclose(hessian, np.array(columns).T, atol=1e-7)


def read_then_filled(x):
    d = np.zeros(3) + x
    doubled = d * 2
    d[1] = d[1] * d[0] + 1
    d[2] += d[1]
    return np.sum(doubled) + np.sum(d ** 2)


def cyclic(x, n):
    a = np.zeros(3)
    for i in range(n):
        a[i % 3] = a[i % 3] + x * i
    return np.sum(a ** 2)


def test_an_array_read_then_filled():
    # What was computed from d before it is filled keeps its value: d * 2
    # and d[1] are values of their own, as in NumPy (a view is refused).
    x = 0.7
    d = np.array([x, x * x + 1, x * x + 1 + x])
    assert ad.value_and_grad(read_then_filled)(x) == pytest.approx(
        (6 * x + np.sum(d ** 2),
         6 + 2 * (d[0] + d[1] * 2 * x + d[2] * (2 * x + 1))), rel=1e-14)
    for n in (0, 2, 7):
        value, grad = ad.value_and_grad(cyclic)(0.5, n)
        sums = [sum(i for i in range(n) if i % 3 == k) for k in range(3)]
        assert value == pytest.approx(sum((0.5 * s) ** 2 for s in sums))
        assert grad == pytest.approx(sum(2 * 0.5 * s * s for s in sums))


def test_printed_gradients_of_array_loops_are_valid_input(tmp_path,
                                                          monkeypatch):
    # The printed gradient (histories in np.empty((n, d)), rows read at
    # the loop's variable, W @ h_i in the backward loop) is differentiated
    # again: its own gradient against central differences.
    W, xs = np.eye(3) / 2 + 0.1, np.full((4, 3), 0.3)
    (tmp_path / "printed_rnn.py").write_text(
        "import numpy as np\n\n\n"
        + ad.source(ad.grad(recurrence), W, xs))
    monkeypatch.syspath_prepend(str(tmp_path))
    import printed_rnn
    weights = np.arange(9.0).reshape(3, 3)

    def weighted(w):
        return np.sum(printed_rnn.grad_recurrence(w, xs) * weights)

    np.testing.assert_allclose(ad.grad(weighted)(W), central(weighted, W),
                               atol=1e-7)


ROWS = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                 [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
LABELS = np.array([1.0, 1.0, 0.0, 1.0])


def summed_by_index(W, b):
    total = 0.0
    for i in range(ROWS.shape[0]):
        p = 1 / (1 + np.exp(-(np.dot(ROWS[i], W) + b)))
        total = total - np.log(p * LABELS[i] + (1 - p) * (1 - LABELS[i]))
    return total


def test_a_row_read_by_index_stays_in_the_loop():
    # The body is lowered again while its carries settle (total starts as
    # the number 0); the second time ROWS[i] is a value made already, and
    # np.dot(ROWS[i], W) was computed once before the loop (NameError).
    W, b = np.array([0.46, -0.82, 1.23]), -0.37
    grad_W, grad_b = ad.grad(summed_by_index, argnums=(0, 1))(W, b)
    error = 1 / (1 + np.exp(-(ROWS @ W + b))) - LABELS
    np.testing.assert_allclose(grad_W, ROWS.T @ error, rtol=1e-12)
    assert grad_b == pytest.approx(np.sum(error), rel=1e-12)
    source = ad.source(ad.grad(summed_by_index), W, b)
    assert "for i_1 in reversed(range(ROWS.shape[0])):" in source
    # One exp, not np.exp(t - ...) beside np.exp(-b - ...) with t = -b
    # computed before the loop.
    assert source.count("np.exp(") == 1


def squares_but_last(y):
    total = 0.0
    for i in range(len(y) - 1):
        total = total + y[i] ** 2
    return total


def squares_of_first(y, n):
    total = 0.0
    for i in range(n):
        total = total + y[i] ** 2
    return total


def trapezoids(y, dx):
    total = 0.0
    for i in range(len(y) - 1):
        total = total + 0.5 * dx * (y[i] + y[i + 1])
    return total


def test_rows_a_loop_does_not_reach_have_gradient_zero():
    # The loop reads y[i] for fewer rows than y has: the gradient keeps
    # y's shape, zero in the rows past the range (it had the loop's
    # length, and trapezoids' broadcast its two reads into each other).
    y = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(ad.grad(squares_but_last)(y),
                                  [2.0, 4.0, 6.0, 0.0])
    np.testing.assert_array_equal(ad.grad(squares_of_first)(y, 2),
                                  [2.0, 4.0, 0.0, 0.0])
    np.testing.assert_array_equal(ad.grad(squares_of_first)(y, 4),
                                  [2.0, 4.0, 6.0, 8.0])
    np.testing.assert_array_equal(ad.grad(trapezoids)(y[:2], 1.0),
                                  [0.5, 0.5])
    np.testing.assert_array_equal(ad.grad(trapezoids)(y[:1], 1.0), [0.0])
    samples = np.sin(np.linspace(0.0, 2.0, 9))
    np.testing.assert_allclose(ad.grad(trapezoids)(samples, 0.25),
                               [0.125] + [0.25] * 7 + [0.125], rtol=1e-15)
    assert "grad_y = np.zeros(y.shape[0])" in ad.source(
        ad.grad(squares_but_last), y)


def horner(coeffs, x):
    result = 0.0
    for c in coeffs:
        result = result * x + c
    return result


def horner_loss(coeffs, x):
    return np.sum(horner(coeffs, x) ** 2)


def test_a_number_read_per_row_broadcast_against_an_array():
    # c = coeffs[i] meets x's shape in result * x + c: its adjoint in the
    # backward loop is summed back to a number per row.
    coeffs = np.array([0.5, -1.0, 2.0, 0.3])
    x = np.array([0.1, 0.7, -0.4])
    values = np.polyval(coeffs, x)
    expected = [np.sum(2 * values * x ** (3 - k)) for k in range(4)]
    np.testing.assert_allclose(ad.grad(horner_loss)(coeffs, x), expected,
                               rtol=1e-13)
    np.testing.assert_allclose(
        ad.grad(horner_loss, argnums=1)(coeffs, x),
        2 * values * np.polyval(np.polyder(coeffs), x), rtol=1e-13)
    assert code(ad.source(ad.grad(horner_loss), coeffs, x)).endswith(
        "for i_1 in reversed(range(n)):\n"
        "    sum_grad_result = np.sum(grad_result)\n"
        "    grad_coeffs[i_1] = sum_grad_result\n"
        "    grad_result = grad_result * x\n"
        "return grad_coeffs\n")


def roughness(y):
    total = 0.0
    for i in range(len(y) - 2):
        total = (total + (y[i + 2] - 2 * y[i + 1] + y[i]) ** 2
                 + np.sin(y[i + 1]) * y[i])
    return total


def test_rows_read_ahead_of_the_loop_variable():
    # y[i + 1] and y[i + 2] are rows of y[1:] and y[2:]: their gradients
    # are rows written per iteration and added in once after the loop
    # (each was an array of y's size per iteration: quadratic time).
    y = np.array([0.3, -1.2, 0.8, 2.0, 0.1, -0.4])
    from autodiff_ast.testing import check_grads
    check_grads(roughness, (y,), order=2)
    np.testing.assert_allclose(ad.grad(trapezoids)(np.arange(5.0), 2.0),
                               [1.0, 2.0, 2.0, 2.0, 1.0], rtol=1e-15)
    assert code(ad.source(ad.grad(roughness), y)).endswith(
        "    grad_y_part_4[i_1] = (y_part_2_i * (np.cos(y_part_6_i) - 4)\n"
        "                          - 4 * y_part_5_i + 8 * y_part_6_i)\n"
        "d_y_2 = np.copy(grad_y)\n"
        "d_y_2[1:] += grad_y_part_4\n"
        "d_y_2[2:] += grad_y_part_3\n"
        "return d_y_2\n")
    assert "zeros_like" not in ad.source(ad.grad(trapezoids), y, 1.0)


def gated(W, xs):
    h = np.zeros((xs.shape[1], 2))
    for t in range(xs.shape[0]):
        z = xs[t] @ W + h @ W[:2]
        i, f = np.split(z, 2, axis=-1)
        h = np.tanh(i) * f
    return np.sum(h ** 2)


def test_hessian_through_a_split_in_a_kept_loop():
    # The pieces' sizes are read inside the loop's body: forward mode over
    # the gradient read them from where the body defines them (KeyError).
    rng = np.random.default_rng(5)
    W, xs = 0.3 * rng.normal(size=(4, 4)), rng.normal(size=(3, 2, 4))
    hessian = ad.hessian(gated)(W, xs)
    gradient = ad.grad(gated)
    step = 1e-5
    for index in [(0, 0), (1, 3), (3, 2)]:
        moved = np.zeros((4, 4))
        moved[index] = step
        np.testing.assert_allclose(
            hessian[(slice(None), slice(None)) + index],
            (gradient(W + moved, xs) - gradient(W - moved, xs)) / (2 * step),
            rtol=1e-6, atol=1e-9)

