"""Scatters in gradients: a gradient that picks one element per row (a
cross-entropy at integer labels) sums its scatter back along the rows
without writing the sum: the sum of ``d[np.arange(n), labels] = v`` along
the labels' axis is ``v``. Where an index may miss a row (a constant
``np.arange(4)``, fewer labels than rows) the sum stays, and is right.
The picked elements' adjoint is then added into the rest of the gradient
in place (``d = p; d[rows, labels] -= 1``), not into zeros added after.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

LABELS = np.array([0, 2, 1, 1])
WEIGHTS = np.array([0.5, -1.0, 2.0, 1.5])


def log_softmax(logits, axis):
    return logits - np.log(np.sum(np.exp(logits), axis=axis, keepdims=True))


def at_labels(logits):
    rows = np.arange(logits.shape[0])
    return -np.sum(log_softmax(logits, 1)[rows, LABELS])


def weighted_at_labels(logits):
    rows = np.arange(logits.shape[0])
    return -np.sum(WEIGHTS * log_softmax(logits, 1)[rows, LABELS])


def at_labels_by_column(logits):
    columns = np.arange(logits.shape[1])
    return -np.sum(log_softmax(logits, 0)[LABELS, columns])


def at_one_label(logits, label):
    return -log_softmax(logits, 0)[label]


def at_four_rows(logits):
    return -np.sum(log_softmax(logits, 1)[np.arange(4), LABELS])


def at_fewer_labels(logits):
    rows = np.arange(LABELS.shape[0])
    return -np.sum(log_softmax(logits, 1)[rows, LABELS])


def _body(function, *example):
    text = ad.source(ad.grad(function), *example)
    return text.split('"""')[-1].strip("\n")


def test_the_sum_of_a_scatter_along_the_labels_is_its_values():
    # ... and the picked elements' adjoint is added into the rest in
    # place, as a person writes it (no zeros, no sum of them).
    logits = np.zeros((4, 3))
    assert _body(at_labels, logits) == (
        "    exp_logits = np.exp(logits - np.max(logits, axis=1, "
        "keepdims=True))\n"
        "    d_logits = exp_logits / np.sum(exp_logits, axis=1, "
        "keepdims=True)\n"
        "    d_logits[np.arange(logits.shape[0]), LABELS] -= 1\n"
        "    return d_logits")
    assert _body(at_one_label, np.zeros(3), 1) == (
        "    exp_logits = np.exp(logits - np.max(logits))\n"
        "    d_logits = exp_logits / np.sum(exp_logits, keepdims=True)\n"
        "    d_logits[label] -= 1\n"
        "    return d_logits")
    # Values per row are put back along the summed axis.
    assert _body(weighted_at_labels, logits) == (
        "    exp_logits = np.exp(logits - np.max(logits, axis=1, "
        "keepdims=True))\n"
        "    d_t_part = -WEIGHTS\n"
        "    d_logits = (-exp_logits * (np.expand_dims(d_t_part, 1)\n"
        "                               / np.sum(exp_logits, axis=1, "
        "keepdims=True)))\n"
        "    d_logits[np.arange(logits.shape[0]), LABELS] += d_t_part\n"
        "    return d_logits")
    assert "np.sum(-d_t" not in _body(at_labels_by_column, logits.T)


def test_an_index_that_may_miss_rows_keeps_its_sum():
    # np.arange(4) picks 4 rows whatever the size; LABELS.shape[0] rows
    # are not all of logits' rows when there are fewer labels.
    for function in (at_four_rows, at_fewer_labels):
        assert "np.sum(-d_t, axis=1, keepdims=True)" in _body(
            function, np.zeros((4, 3)))


@pytest.mark.parametrize("function, shape", [
    (at_labels, (4, 3)), (weighted_at_labels, (4, 3)),
    (at_labels_by_column, (3, 4)), (at_four_rows, (4, 3)),
    (at_four_rows, (6, 3)), (at_fewer_labels, (6, 3))])
def test_gradients_through_picked_elements_match_central_differences(
        function, shape):
    logits = np.random.default_rng(3).normal(size=shape)
    np.testing.assert_allclose(ad.grad(function)(logits), numeric_gradient(
        function, (logits,), 0), rtol=1e-7, atol=1e-9)


def test_one_label_matches_central_differences_for_each_label():
    logits = np.random.default_rng(4).normal(size=5)
    grad = ad.grad(at_one_label)
    for label in (0, 3, -1):
        np.testing.assert_allclose(grad(logits, label), numeric_gradient(
            at_one_label, (logits, label), 0), rtol=1e-7, atol=1e-9)


def test_code_printed_for_four_rows_is_right_for_seven():
    global LABELS, WEIGHTS
    text = ad.source(ad.grad(weighted_at_labels), np.zeros((4, 3)))
    saved = LABELS, WEIGHTS
    try:
        rng = np.random.default_rng(5)
        LABELS, WEIGHTS = rng.integers(0, 3, 7), rng.normal(size=7)
        namespace = {"np": np, "LABELS": LABELS, "WEIGHTS": WEIGHTS}
        exec(text, namespace)
        logits = rng.normal(size=(7, 3))
        np.testing.assert_allclose(
            namespace["grad_weighted_at_labels"](logits),
            numeric_gradient(weighted_at_labels, (logits,), 0),
            rtol=1e-7, atol=1e-9)
    finally:
        LABELS, WEIGHTS = saved


def test_hessians_through_picked_elements():
    # Their forward rule: the -1 put at the labels is a constant (no
    # tangent); the Hessian is softmax's Jacobian, row by row.
    logits = np.random.default_rng(7).normal(size=(4, 3))
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    expected = np.zeros((4, 3, 4, 3))
    for row in range(4):
        expected[row, :, row, :] = np.diag(p[row]) - np.outer(p[row], p[row])
    np.testing.assert_allclose(ad.hessian(at_labels)(logits), expected,
                               rtol=1e-12, atol=1e-15)
    weighted = expected * WEIGHTS[:, None, None, None]
    np.testing.assert_allclose(ad.hessian(weighted_at_labels)(logits),
                               weighted, rtol=1e-12, atol=1e-15)


def test_a_base_that_may_hold_integers_is_not_added_into():
    # The adjoint of np.sum(x) is an array of ones (integers): the picked
    # element's float adjoint goes into zeros like x, then the sum.
    def picked_and_total(x):
        return np.sum(x) + np.sin(x[1]) * 2.0

    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(ad.grad(picked_and_total)(x),
                               [1.0, 1.0 + 2 * np.cos(-1.2), 1.0],
                               rtol=1e-15)


def test_float32_logits_keep_their_dtype():
    logits = np.random.default_rng(6).normal(size=(4, 3)).astype(np.float32)
    assert ad.grad(at_labels)(logits).dtype == np.float32


X = np.array([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7], [-0.2, 0.9, 0.8],
              [0.6, -0.5, -1.0]])


def shifted_products(W, b):
    z = np.dot(X, W - b) + b
    return np.sum((z + b)[1:] * z[:-1])


def test_pieces_read_by_two_adjoints_are_not_merged_away():
    # The adjoint of t = z + b flows to z and to b: its scatter d_t was
    # merged into z's (d_z[1:] += ...) and gone, where b's gradient read
    # it: `name 'd_t' is not defined` (found by test_properties).
    W, b = np.array([0.1, -0.4, 0.3]), 0.5
    grad_W, grad_b = ad.grad(shifted_products, (0, 1))(W, b)
    np.testing.assert_allclose(
        grad_W, numeric_gradient(shifted_products, (W, b), 0), rtol=1e-7)
    assert grad_b == pytest.approx(
        numeric_gradient(shifted_products, (W, b), 1), rel=1e-7)
