"""Numerical programs as JAX users write them, ported to NumPy (sweep 6):
hand-written log-softmax cross-entropy, layer norm, attention, Huber loss,
a GRU cell over a sequence, a Gaussian process likelihood by Cholesky,
Poisson regression, k-means distortion, RK4 and Euler integrators with
the step count an argument, np.polyval, sorting, cumulative sums, norms
along an axis, einsum, take_along_axis, broadcasting with ``[:, None]``,
reshape/split/stack, ``ddof`` statistics, indexing by constant arrays,
the JAX tutorial's MLP over a list of ``(w, b)`` pairs, convolution,
pooling, causal attention and recurrent nets that append their states.

Expected numbers are JAX 0.10.2's (float64, jax_enable_x64), pasted in, or
fourth-order central differences of the user's own function. Known bugs
are strict xfails whose reason names their entry in the sweep's list
("sweep6 bug N").
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

import autodiff_ast as ad
from test_sweep5 import assert_matches_differences, assert_tree_close

X = np.array([[0.3, -1.2, 2.2], [0.7, 1.9, -0.4], [-0.5, 0.1, 0.8],
              [1.1, -0.6, 0.2]])
V5 = np.array([0.3, -1.2, 2.2, 0.7, -0.4])
W3 = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])


def assert_jax(got, want, rtol=1e-10, atol=1e-12):
    """``got`` (a tuple or one array) equals JAX's pasted numbers."""
    if isinstance(got, tuple):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- losses and layers, against JAX ---------------------------------------------

def cross_entropy(logits, label):
    m = np.max(logits)
    lse = m + np.log(np.sum(np.exp(logits - m)))
    return lse - logits[label]


def test_cross_entropy_by_a_hand_logsumexp_against_jax():
    assert_jax(ad.grad(cross_entropy)(V5, 2),
               [0.10103628263529639, 0.0225442419252157,
                -0.32448207946011454, 0.15072842179319895,
                0.050173133106403374])


def layer_norm_cubed(x, g, b):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return np.sum((g * (x - mu) / np.sqrt(var + 1e-5) + b) ** 3)


def test_layer_norm_in_input_gain_and_bias_against_jax():
    got = ad.grad(layer_norm_cubed, argnums=(0, 1, 2))(
        X, np.array([1.0, 0.5, 2.0]), np.array([0.1, 0.0, -0.1]))
    assert_jax(got, (
        [[-7.652915479733053, 4.276561250407839, 3.376354229325214],
         [-14.212572033894133, 6.797095244442847, 7.41547678945129],
         [12.14206077070633, -22.55153862732679, 10.409477856620462],
         [1.1827317952382757, 1.3304139959973353, -2.51314579123561]],
        [2.5373073901245267, -1.0726314855733494, 21.66696987201478],
        [9.042409062550872, 3.2738223937342, 54.34137412071135]),
        rtol=1e-9)


def attention(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[-1])
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return np.sum((p @ v) ** 2)


def test_attention_in_queries_keys_and_values_against_jax():
    got = ad.grad(attention, argnums=(0, 1, 2))(X, X[::-1] * 0.5, X ** 2)
    assert_jax(got, (
        [[0.08020059040371141, 0.23548410172284512, -0.6652679094286736],
         [0.07395932925197536, -1.0636670447336614, 0.21736149616424819],
         [-0.039467529334451995, -0.2540024240430435, -0.5244073643773308],
         [0.649188579662178, -0.5136869506859574, -1.0933383326230106]],
        [[2.575845068011857, -0.17171239161876062, 1.9746353582052334],
         [-0.046553332204854, 0.05455933935890042, 1.137835134128486],
         [-1.1964322509678338, -1.2933459562269405, -0.4479941498922505],
         [-1.3328594848391688, 1.4104990084868008, -2.664476342441469]],
        [[0.968808607172081, 1.9272449400614156, 2.187213156591042],
         [0.9205461104732391, 1.824193782435527, 1.8800951741027219],
         [0.9134543278521863, 2.076026208044073, 2.5579709457430164],
         [1.9313794899812795, 3.170556580824808, 3.0914036611355042]]))


def huber(x, d=1.0):
    a = np.abs(x)
    return np.sum(np.where(a < d, 0.5 * x ** 2, d * (a - 0.5 * d)))


def test_huber_loss_by_where_against_jax():
    assert_jax(ad.grad(huber)(V5 * 2), [0.6, -1.0, 1.0, 1.0, -0.8])


def gru(h0, xs, W, U):
    h = h0
    for t in range(xs.shape[0]):
        z = 1 / (1 + np.exp(-(W @ xs[t] + U @ h)))
        h = (1 - z) * h + z * np.tanh(W @ xs[t])
    return np.sum(h ** 2)


def test_gru_over_a_sequence_against_jax():
    got = ad.grad(gru, argnums=(0, 2, 3))(
        np.array([0.1, -0.2, 0.3]), X, W3, W3.T * 0.5)
    assert_jax(got, (
        [0.025257791298476596, -0.00517522611562032, 0.0035834287425238693],
        [[0.4904727617204942, -0.2577556430729253, 0.26239018933109093],
         [-0.046462864507678704, 0.001715931048019074, -0.004713376273403087],
         [0.07127255469648035, -0.0013601040647399103, 0.06964717186144692]],
        [[-0.017126872705559362, 0.009167628556954424, 0.033333434686979316],
         [-0.0006763373969916774, 0.006097956312632313, 0.00456844836879132],
         [-0.004339550877924264, -0.001185579626030297,
          -0.031289295383359436]]), rtol=1e-9)


def gp_nll(ls, x, y):
    d = x[:, None] - x[None, :]
    K = np.exp(-0.5 * d ** 2 / ls ** 2) + 0.1 * np.eye(x.shape[0])
    L = np.linalg.cholesky(K)
    a = np.linalg.solve(K, y)
    return 0.5 * y @ a + np.sum(np.log(np.diag(L)))


def test_gaussian_process_likelihood_in_every_argument_against_jax():
    got = ad.grad(gp_nll, argnums=(0, 1, 2))(1.3, V5, V5 ** 2)
    assert_jax(got, (
        8.814509572022486,
        [0.31556524755400756, 2.0194743682745058, -5.715107995866099,
         4.359183788140386, -0.9791154081028005],
        [-0.3748268377651191, 2.680744277134819, 5.501170477900666,
         -2.021917340360818, -0.968258151879765]), rtol=1e-9)


def poisson_nll(w, X, y):
    r = np.exp(X @ w)
    return np.sum(r - y * np.log(r))


def test_poisson_regression_against_jax():
    got = ad.grad(poisson_nll)(np.array([0.1, -0.2, 0.3]), X,
                              np.array([1.0, 0, 2, 3]))
    assert_jax(got, [-0.5068730692404859, 0.31123025914962926,
                     2.1312459315313403])


def kmeans_distortion(X, C):
    d = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=-1)
    return np.sum(np.min(d, axis=1))


def test_kmeans_distortion_in_points_and_centres_against_jax():
    got = ad.grad(kmeans_distortion, argnums=(0, 1))(X, X[:2] + 0.1)
    assert_jax(got, (
        [[-0.2, -0.2, -0.2], [-0.2, -0.2, -0.2], [-1.8, 2.4, -3.0],
         [1.4, 1.0, -4.2]],
        [[0.6, -3.2, 7.4], [0.2, 0.2, 0.2]]))


def column_statistics(A):
    m = np.mean(A, axis=0, keepdims=True)
    return np.sum(np.var(A, axis=0, ddof=1)) + np.sum(np.std(A - m, ddof=1))


def test_ddof_statistics_against_jax():
    assert_jax(ad.grad(column_statistics)(X), [
        [-0.07595824455563435, -0.9494780569454292, 1.1393736683345153],
        [0.22787473366690297, 1.4052275242792351, -0.8355406901119777],
        [-0.6836242010007091, 0.03797912227781719, 0.0759582445556343],
        [0.5317077118894404, -0.49372858961162314, -0.37979122277817184]])


def picked_squares(A):
    idx = np.array([[0], [2], [1], [0]])
    return np.sum(np.take_along_axis(A, idx, axis=1) ** 2)


def running_sums(x):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.diff(x) ** 2)


def largest_twice_plus_smallest(x):
    s = np.sort(x)
    return s[-1] * 2 + s[0]


def row_and_column_norms(A):
    return np.sum(np.linalg.norm(A, axis=1)) + np.linalg.norm(A, axis=0).max()


def test_array_functions_against_jax():
    assert_jax(ad.grad(picked_squares)(X), [
        [0.6, 0.0, 0.0], [0.0, 0.0, -0.8], [0.0, 0.2, 0.0], [2.2, 0.0, 0.0]])
    assert_jax(ad.grad(running_sums)(V5), [11.6, -1.8, 19.6, 6.4, 1.0])
    assert_jax(ad.grad(largest_twice_plus_smallest)(V5),
               [0.0, 1.0, 2.0, 0.0, 0.0])
    assert_jax(ad.grad(row_and_column_norms)(X), [
        [0.11886432776254909, -0.47545731105019634, 1.794771231051718],
        [0.33915110817805644, 0.9205530079118674, -0.3616369049039415],
        [-0.5270462766947298, 0.10540925533894596, 1.1789465860302433],
        [0.8669214468630106, -0.4728662437434603, 0.24154021707748902]])


# -- integrators and iterations ---------------------------------------------------

def rk4_decay(y0, k, n):
    h = 0.1
    y = y0
    for _ in range(n):
        f = lambda y: -k * y
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def test_rk4_with_a_lambda_right_hand_side_against_jax():
    got = ad.grad(rk4_decay, argnums=(0, 1))(1.0, 0.5, 10)
    assert_jax(got, (0.6065306761801417, -0.6065305101311399))


def euler_forced(y0, T, n):
    dt = T / n
    y = y0
    t = 0.0
    for i in range(n):
        y = y + dt * (np.cos(t) - y)
        t = t + dt
    return y


def euler_until(y0, T):
    y = y0
    t = 0.0
    dt = 0.1
    while t < T:
        y = y + dt * (-y ** 2)
        t += dt
    return y


def summed_polyval(c, x):
    return np.sum(np.polyval(c, x))


def test_integrators_and_polynomials_match_differences():
    assert_matches_differences(euler_forced, (1.0, 2.0, 20), (0, 1))
    assert_matches_differences(euler_until, (1.0, 1.05))
    assert_matches_differences(summed_polyval,
                               (np.array([1.0, -2.0, 3.0]), V5), (0, 1))


# -- array manipulation ---------------------------------------------------------

def pairwise_squares(x, y):
    return np.sum((x[:, None] - y[None, :]) ** 2)


def pair_products(x):
    p = x.reshape(-1, 2)
    return np.sum(p[:, 0] * p[:, 1])


def split_and_joined(x):
    a, b = np.split(x, 2)
    c = np.concatenate([a, b * 2])
    s = np.stack([a, b], axis=1)
    return np.sum(c ** 2) + np.sum(s[:, 0] * s[:, 1])


def einsum_contractions(A, B):
    return np.einsum('ij,kj->', A, B) + np.einsum('ij,ij->i', A, B).sum()


def clipped_and_rectified(x):
    return np.sum(np.clip(x, -0.5, 0.5) ** 2 + np.maximum(x, 0))


def clipped_between(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) ** 2)


def larger_and_smaller(x, y):
    return np.sum(np.maximum(x, y) ** 2 + np.minimum(x, y))


def test_array_manipulation_matches_differences():
    six = np.array([0.3, -1.2, 2.2, 0.7, -0.4, 1.5])
    assert_matches_differences(pairwise_squares, (V5, V5[:3]), (0, 1))
    assert_matches_differences(pair_products, (six,))
    assert_matches_differences(split_and_joined, (six,))
    assert_matches_differences(einsum_contractions, (X, X * 0.5), (0, 1))
    assert_matches_differences(clipped_and_rectified, (V5,))
    assert_matches_differences(clipped_between, (V5, -0.3, 0.4), (0, 1, 2))
    assert_matches_differences(larger_and_smaller, (V5, -V5 * 0.5), (0, 1))


def test_indexing_with_a_constant_integer_array():
    def f(x):
        return np.sum(x[np.array([0, 2, 2])] ** 2)
    assert_tree_close(ad.grad(f)(V5), np.array([0.6, 0.0, 8.8, 0.0, 0.0]))


MASK = np.array([True, False, True, False, True])


def masked_by_a_global(x):
    return np.sum(x[MASK] ** 2)


def masked_by_an_inline_array(x):
    return np.sum(x[np.array([True, False, True, False, True])] ** 2)


def test_indexing_with_a_boolean_array_read_from_a_global():
    assert_tree_close(ad.grad(masked_by_a_global)(V5),
                      np.array([0.6, 0.0, 4.4, 0.0, -0.8]))


# was sweep6 bug 1: an inline boolean array was read as indices 1 and 0
def test_indexing_with_a_boolean_array_written_inline():
    value, grad = ad.value_and_grad(masked_by_an_inline_array)(V5)
    assert value == pytest.approx(0.09 + 4.84 + 0.16, rel=1e-12)
    assert_tree_close(grad, np.array([0.6, 0.0, 4.4, 0.0, -0.8]))


# -- networks ---------------------------------------------------------------------

def relu(x):
    return np.maximum(0, x)


def init_mlp(sizes):
    r = np.random.default_rng(0)
    return [(r.normal(size=(n, m)) * 0.5, r.normal(size=n) * 0.1)
            for m, n in zip(sizes[:-1], sizes[1:])]


PARAMS = init_mlp([4, 5, 3])
IMAGES = np.array([[0.3, -1.2, 2.2, 0.7], [1.9, -0.4, -0.5, 0.1],
                   [0.8, 1.1, -0.6, 0.2]])
TARGETS = np.eye(3)[[0, 2, 1]]


def predict(params, image):
    activations = image
    for w, b in params[:-1]:
        outputs = np.dot(w, activations) + b
        activations = relu(outputs)
    final_w, final_b = params[-1]
    logits = np.dot(final_w, activations) + final_b
    return logits - logsumexp(logits)


def tutorial_loss(params, image, target):
    return -np.sum(predict(params, image) * target)


def predict_batch(params, images):
    activations = images
    for w, b in params[:-1]:
        activations = relu(activations @ w.T + b)
    final_w, final_b = params[-1]
    logits = activations @ final_w.T + final_b
    return logits - logsumexp(logits, axis=1, keepdims=True)


def batch_loss(params, images, targets):
    return -np.mean(predict_batch(params, images) * targets)


def loss_and_accuracy(params, images, targets):
    preds = predict_batch(params, images)
    acc = np.mean(np.argmax(preds, axis=1) == np.argmax(targets, axis=1))
    return -np.mean(preds * targets), acc


def test_the_jax_tutorial_mlp_over_a_list_of_pairs():
    assert_matches_differences(tutorial_loss,
                               (PARAMS, IMAGES[0], TARGETS[0]), (0, 1))
    assert_matches_differences(batch_loss, (PARAMS, IMAGES, TARGETS))


def test_accuracy_as_aux_and_an_sgd_step_over_the_pairs():
    (loss, acc), grads = ad.value_and_grad(loss_and_accuracy, has_aux=True)(
        PARAMS, IMAGES, TARGETS)
    assert loss == pytest.approx(batch_loss(PARAMS, IMAGES, TARGETS),
                                 rel=1e-12)
    assert acc == loss_and_accuracy(PARAMS, IMAGES, TARGETS)[1]
    assert_tree_close(grads, ad.grad(batch_loss)(PARAMS, IMAGES, TARGETS))
    stepped = [(w - 0.1 * dw, b - 0.1 * db)
               for (w, b), (dw, db) in zip(PARAMS, grads)]
    assert batch_loss(stepped, IMAGES, TARGETS) < loss


def conv_valid(w, x):
    return np.sum(np.tanh(np.convolve(x, w, mode='valid')) ** 2)


def max_pool_pairs(x):
    return np.sum(x.reshape(-1, 2).max(axis=1) ** 2)


def causal_attention_by_where(q, k, v):
    T = q.shape[0]
    s = q @ k.T / np.sqrt(q.shape[1])
    mask = np.tril(np.ones((T, T), dtype=bool))
    s = np.where(mask, s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return np.sum((p @ v) ** 2)


def causal_attention_by_triu(q, k, v):
    T = q.shape[0]
    s = q @ k.T / np.sqrt(q.shape[1])
    s = s + np.triu(np.full((T, T), -1e9), k=1)
    p = np.exp(s - logsumexp(s, axis=-1, keepdims=True))
    return np.sum((p @ v) ** 2)


def embedded_bag(E, ids):
    return np.sum(np.tanh(E[ids]).sum(axis=0) ** 2)


def l2_over_layers(params):
    return sum(np.sum(w ** 2) for w, b in params)


def l2_over_every_array(params):
    return 0.5 * sum([np.sum(p ** 2) for layer in params for p in layer])


def test_layers_match_differences():
    eight = np.array([0.3, -1.2, 2.2, 0.7, -0.4, 1.5, 0.1, -0.9])
    assert_matches_differences(conv_valid, (np.array([0.5, -1.0, 0.3]),
                                            eight), (0, 1))
    assert_matches_differences(max_pool_pairs, (eight,))
    q = X[:, :2]
    for causal in (causal_attention_by_where, causal_attention_by_triu):
        assert_matches_differences(causal, (q, q * 0.5 + 0.1, q ** 2),
                                   (0, 1, 2))
    assert_matches_differences(embedded_bag, (np.vstack([X, X * 0.5])[:5],
                                              np.array([1, 3, 1])))
    assert_matches_differences(l2_over_layers, (PARAMS,))
    assert_matches_differences(l2_over_every_array, (PARAMS,))


def elman_states_appended(Wh, Wx, xs):
    h = np.zeros(3)
    hs = []
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def test_an_elman_rnn_with_an_input_projection_appending_its_states():
    # (sweep6 bug 7) the states' sizes are Wh's rows, through Wh @ h
    assert_matches_differences(elman_states_appended,
                               (W3, X[:3, :2], X[:, :2]), (0, 1, 2))
