"""Sums of scatters: a gradient that picks one element per row (a
cross-entropy at integer labels) sums its scatter back along the rows
without writing the sum: the sum of ``d[np.arange(n), labels] = v`` along
the labels' axis is ``v``. Where an index may miss a row (a constant
``np.arange(4)``, fewer labels than rows) the sum stays, and is right.
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
    logits = np.zeros((4, 3))
    assert _body(at_labels, logits) == (
        "    exp_logits = np.exp(logits - np.max(logits, axis=(1,), "
        "keepdims=True))\n"
        "    d_t = np.zeros_like(logits)\n"
        "    d_t[np.arange(logits.shape[0]), LABELS] = -1\n"
        "    return d_t + exp_logits / np.sum(exp_logits, axis=(1,), "
        "keepdims=True)")
    assert _body(at_one_label, np.zeros(3), 1) == (
        "    exp_logits = np.exp(logits - np.max(logits))\n"
        "    d_t = np.zeros_like(logits)\n"
        "    d_t[label] = -1\n"
        "    return d_t + exp_logits / np.sum(exp_logits, keepdims=True)")
    # Values per row are put back along the summed axis.
    assert "np.expand_dims(d_t_part, 1)" in _body(weighted_at_labels,
                                                  logits)
    assert "np.sum(-d_t" not in _body(at_labels_by_column, logits.T)


def test_an_index_that_may_miss_rows_keeps_its_sum():
    # np.arange(4) picks 4 rows whatever the size; LABELS.shape[0] rows
    # are not all of logits' rows when there are fewer labels.
    for function in (at_four_rows, at_fewer_labels):
        assert "np.sum(-d_t, axis=(1,), keepdims=True)" in _body(
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


def test_float32_logits_keep_their_dtype():
    logits = np.random.default_rng(6).normal(size=(4, 3)).astype(np.float32)
    assert ad.grad(at_labels)(logits).dtype == np.float32
