"""Neural-network code as people write it in NumPy (sweep 4): an MLP whose
parameters are a list of (W, b) tuples, GELU in its tanh form, log-softmax by
a hand logsumexp, cross-entropy by indexing with integer labels (also the
cs231n spelling), causal attention with a -inf mask, batch norm, a 2-D
convolution by shifted slices, max pooling by reshape, embeddings of a
token matrix, residual blocks, label smoothing, an Adam loop that calls the
gradient each step, and recurrent nets that keep their hidden states in a
list.

Gradients are checked against fourth-order central differences of the
user's own function; known bugs are strict xfails whose reason names their
entry in the sweep's list.
"""

from __future__ import annotations

import numpy as np
import optree
import pytest

import autodiff_ast as ad
from helpers import numeric_gradient

rng = np.random.default_rng(11)
X = rng.normal(size=(6, 4))
LABELS = np.array([0, 2, 1, 2, 0, 1])


def assert_gradient(f, args, argnum=0, rtol=1e-6, atol=1e-8):
    """ad.grad(f, argnum) equals central differences, structure and all,
    and value_and_grad's value is f's."""
    value, gradient = ad.value_and_grad(f, argnums=argnum)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    expected = numeric_gradient(f, args, argnum)
    assert optree.tree_structure(gradient) == optree.tree_structure(expected)
    for got, want in zip(optree.tree_leaves(gradient),
                         optree.tree_leaves(expected)):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- an MLP over a list of (W, b) tuples ------------------------------------------

def init_mlp(sizes, seed=0):
    r = np.random.default_rng(seed)
    return [(r.normal(size=(m, n)) * 0.3, np.zeros(n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def log_softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def predict(params, x):
    for W, b in params[:-1]:
        x = gelu(x @ W + b)
    W, b = params[-1]
    return x @ W + b


def mlp_loss(params, x, y):
    logp = log_softmax(predict(params, x))
    return -np.mean(logp[np.arange(x.shape[0]), y])


def test_mlp_over_a_list_of_tuples():
    params = init_mlp([4, 5, 3])
    assert_gradient(mlp_loss, (params, X, LABELS))
    g = ad.grad(mlp_loss)(params, X, LABELS)
    assert type(g) is list and all(type(layer) is tuple for layer in g)


def test_mlp_gradient_with_respect_to_the_inputs():
    assert_gradient(mlp_loss, (init_mlp([4, 5, 3]), X, LABELS), argnum=1)


def test_adam_loop_calling_the_gradient_each_step():
    params = init_mlp([4, 5, 3], seed=1)
    dloss = ad.grad(mlp_loss)
    m = [tuple(np.zeros_like(p) for p in layer) for layer in params]
    v = [tuple(np.zeros_like(p) for p in layer) for layer in params]
    losses = [mlp_loss(params, X, LABELS)]
    for t in range(1, 21):
        grads = dloss(params, X, LABELS)
        if t == 20:   # the gradient at the moved parameters is still right
            expected = numeric_gradient(mlp_loss, (params, X, LABELS), 0)
            for got, want in zip(optree.tree_leaves(grads),
                                 optree.tree_leaves(expected)):
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        new_params, new_m, new_v = [], [], []
        for layer, g, mt, vt in zip(params, grads, m, v):
            mt = tuple(0.9 * a + 0.1 * b for a, b in zip(mt, g))
            vt = tuple(0.999 * a + 0.001 * b ** 2 for a, b in zip(vt, g))
            layer = tuple(
                p - 0.05 * (a / (1 - 0.9 ** t))
                / (np.sqrt(b / (1 - 0.999 ** t)) + 1e-8)
                for p, a, b in zip(layer, mt, vt))
            new_params.append(layer)
            new_m.append(mt)
            new_v.append(vt)
        params, m, v = new_params, new_m, new_v
        losses.append(mlp_loss(params, X, LABELS))
    assert losses[-1] < 0.5 * losses[0]


def weight_decay(params):
    return (0.5 * sum(np.sum(W ** 2) for W, b in params)
            + sum(np.sum(np.abs(b)) for W, b in params))


def test_weight_decay_over_the_layers():
    params = [(rng.normal(size=(2, 2)), rng.normal(size=2)) for _ in range(2)]
    g = ad.grad(weight_decay)(params)
    for (gW, gb), (W, b) in zip(g, params):
        np.testing.assert_array_equal(gW, W)
        np.testing.assert_array_equal(gb, np.sign(b))


# -- losses over integer labels -------------------------------------------------------

def label_smoothing(W, x, y, eps=0.1):
    logits = x @ W
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    n, k = logits.shape
    target = (1 - eps) * np.eye(k)[y] + eps / k
    return -np.sum(target * logp) / n


def multiclass_svm(W, x, y):
    s = x @ W
    correct = s[np.arange(s.shape[0]), y][:, None]
    margins = np.maximum(0, s - correct + 1.0)
    margins[np.arange(s.shape[0]), y] = 0
    return np.sum(margins) / s.shape[0]


def softmax_by_arange(W, X, y):
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(X.shape[0]), y])) / X.shape[0]
    loss += 0.5 * 0.1 * np.sum(W * W)
    return loss


def softmax_cs231n(W, X, y):
    # the cs231n assignment's spelling: rows chosen by range(N)
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[range(X.shape[0]), y])) / X.shape[0]
    loss += 0.5 * 0.1 * np.sum(W * W)
    return loss


@pytest.mark.parametrize("loss", [label_smoothing, multiclass_svm,
                                  softmax_by_arange])
def test_losses_over_integer_labels(loss):
    assert_gradient(loss, (rng.normal(size=(4, 3)), X, LABELS))


def test_cs231n_softmax_loss_indexes_by_range():
    # was sweep4 bug 15: range(N) refused, "cannot differentiate through"
    assert_gradient(softmax_cs231n, (rng.normal(size=(4, 3)), X, LABELS))


# -- attention, normalisation, convolution -------------------------------------------

def softmax(s):
    s = s - np.max(s, axis=-1, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=-1, keepdims=True)


K_KEYS = rng.normal(size=(4, 3))
CAUSAL = np.tril(np.ones((4, 4), dtype=bool))


def causal_attention(Q, V):
    s = Q @ K_KEYS.T / np.sqrt(Q.shape[-1])
    s = np.where(CAUSAL, s, -np.inf)
    return np.sum((softmax(s) @ V) ** 2)


def multi_head(Wq, x):
    B, D = x.shape
    H = 2
    Q = (x @ Wq).reshape(B, H, D // H).transpose(1, 0, 2)
    S = Q @ Q.transpose(0, 2, 1) / np.sqrt(D // H)
    P = softmax(S)
    return np.sum((P @ Q) ** 2)


def batch_norm(x, gamma, beta):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xh = (x - mu) / np.sqrt(var + 1e-5)
    return np.sum(np.tanh(gamma * xh + beta) ** 2)


def conv2d_relu(K, img):
    kh, kw = K.shape
    H, W = img.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(kh):
        for j in range(kw):
            out = out + K[i, j] * img[i:i + H - kh + 1, j:j + W - kw + 1]
    return np.sum(np.maximum(out, 0) ** 2)


def max_pool(x):
    return np.sum(x.reshape(3, 2, 2, 2).max(axis=(1, 3)) ** 2)


def embedding_mean(E, tokens):
    h = E[tokens]
    return np.sum(np.tanh(h.mean(axis=1)) ** 2)


def residual(params, x):
    for W in params:
        x = x + np.tanh(x @ W)
    return np.sum(x ** 2)


def contrastive(Z):
    Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    S = Zn @ Zn.T / 0.5
    S = S - 1e9 * np.eye(Z.shape[0])
    m = S.max(axis=1)
    lse = np.log(np.sum(np.exp(S - m[:, None]), axis=1)) + m
    pos = S[np.arange(6), np.array([1, 0, 3, 2, 5, 4])]
    return np.mean(lse - pos)


@pytest.mark.parametrize("f, args, argnum", [
    (causal_attention, (rng.normal(size=(4, 3)), rng.normal(size=(4, 2))), 0),
    (causal_attention, (rng.normal(size=(4, 3)), rng.normal(size=(4, 2))), 1),
    (multi_head, (rng.normal(size=(4, 4)), X), 0),
    (multi_head, (rng.normal(size=(4, 4)), X), 1),
    (batch_norm, (X, rng.normal(size=4), rng.normal(size=4)), 0),
    (batch_norm, (X, rng.normal(size=4), rng.normal(size=4)), 1),
    (conv2d_relu, (rng.normal(size=(3, 3)), rng.normal(size=(6, 7))), 0),
    (conv2d_relu, (rng.normal(size=(3, 3)), rng.normal(size=(6, 7))), 1),
    (max_pool, (rng.normal(size=(6, 4)),), 0),
    (embedding_mean, (rng.normal(size=(5, 3)),
                      np.array([[0, 1, 1], [4, 0, 0]])), 0),
    (residual, ([rng.normal(size=(4, 4)) * 0.3 for _ in range(3)], X), 0),
    (contrastive, (X,), 0)])
def test_layers(f, args, argnum):
    assert_gradient(f, args, argnum)


def test_gelu_hessian_is_diagonal_and_matches_differences():
    x = np.array([-2.0, -0.3, 0.0, 0.4, 1.7])
    H = ad.hessian(lambda t: np.sum(gelu(t)))(x)
    d = 1e-5
    second = (gelu(x + d) - 2 * gelu(x) + gelu(x - d)) / d ** 2
    np.testing.assert_allclose(H, np.diag(second), rtol=1e-4, atol=1e-6)


# -- recurrent nets keeping their states in a list --------------------------------------

W_REC = rng.normal(size=(3, 3)) * 0.5
XS = rng.normal(size=(5, 3))


def rnn_states_appended_from_the_last(W, xs):
    hs = [np.zeros(3)]
    for x in xs:
        hs.append(np.tanh(W @ hs[-1] + x))
    return np.sum(np.stack(hs) ** 2)


def rnn_states_indexed_by_step(W, xs):
    hs = [np.zeros(3)]
    for t in range(5):
        hs.append(np.tanh(W @ hs[t] + xs[t]))
    return np.sum(np.stack(hs) ** 2)


def rnn_state_appended_after_update(W, xs):
    h = np.zeros(3)
    hs = []
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def rnn_elementwise_state_appended(w, xs):
    h = np.zeros(3)
    hs = []
    for x in xs:
        h = np.tanh(w * h + x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def test_a_recurrence_over_a_list_indexed_by_a_constant_step():
    assert_gradient(rnn_states_indexed_by_step, (W_REC, XS))


def test_states_appended_in_an_elementwise_recurrence():
    assert_gradient(rnn_elementwise_state_appended, (W_REC[0], XS))


# was sweep4 bug 13: hs[-1] read the list as it was before the loop
def test_a_recurrence_reading_the_last_state_of_its_list():
    assert_gradient(rnn_states_appended_from_the_last, (W_REC, XS))


# was sweep4 bug 14: NameError, the rows sized by W @ h of the loop
def test_hidden_states_collected_by_append_after_a_matrix_product():
    assert_gradient(rnn_state_appended_after_update, (W_REC, XS))
