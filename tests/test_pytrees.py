"""Pytree arguments and outputs: gradients keep the structure and container
types of their arguments; has_aux passes pytrees through; bad inputs and
outputs raise errors that say what to do."""

from __future__ import annotations

import collections
import os
import pathlib
import typing

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._float_handle import transform_of
from helpers import numeric_gradient

Params = collections.namedtuple("Params", "W b")
HERE = pathlib.Path(__file__).name


def dict_loss(params):
    return np.sum(np.tanh(params["W"]) * params["b"])


def list_loss(layers):
    return np.sum(layers[0] ** 2) + layers[1] * np.sum(layers[0])


def tuple_loss(pair):
    first, second = pair
    return np.sum(np.exp(first)) * second


def namedtuple_loss(params):
    return np.sum(np.sin(params.W) + params.b * params.W)


def nested_loss(params):
    total = 0.0
    for layer in params["layers"]:
        total = total + np.sum(np.tanh(layer["w"] * params["scale"]))
    return total


def none_loss(params):
    return np.sum(params["w"] ** 3)


CASES = [
    (dict_loss, {"W": np.array([0.3, -1.2]), "b": 0.7}),
    (dict_loss, {"b": 0.7, "W": np.array([0.3, -1.2])}),  # caller's order
    (list_loss, [np.array([[0.5, 1.5], [2.0, -0.5]]), 1.3]),
    (tuple_loss, (np.array([0.1, 0.2, 0.3]), 2.0)),
    (namedtuple_loss, Params(np.array([0.4, 0.9]), 1.1)),
    (nested_loss, {"layers": [{"w": np.array([0.2, 0.4])},
                              {"w": np.array([[1.0], [-1.0]])}],
                   "scale": 0.5}),
    (none_loss, {"w": np.array([1.0, 2.0]), "unused": None}),
]


def same_structure(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            same_structure(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_structure(x, y)
    elif a is None:
        assert b is None
    else:
        assert np.shape(a) == np.shape(b)


@pytest.mark.parametrize("function,params", CASES,
                         ids=[f"{c[0].__name__}-{i}"
                              for i, c in enumerate(CASES)])
def test_gradient_has_the_argument_structure(function, params):
    gradient = ad.grad(function)(params)
    expected = numeric_gradient(function, (params,), 0)
    same_structure(gradient, params)
    import optree
    for got, want in zip(optree.tree_leaves(gradient),
                         optree.tree_leaves(expected)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)


def with_aux(W, b):
    preds = np.tanh(W * b)
    return np.sum(preds ** 2), {"preds": preds, "scale": b, "tag": (1.0,)}


def test_has_aux_passes_a_pytree_through():
    W = np.array([0.2, -0.4, 0.9])
    gradient, aux = ad.grad(with_aux, has_aux=True)(W, 0.5)
    np.testing.assert_allclose(gradient,
                               numeric_gradient(lambda w, b: with_aux(w, b)[0],
                                                (W, 0.5), 0), rtol=1e-7)
    assert list(aux) == ["preds", "scale", "tag"]
    np.testing.assert_allclose(aux["preds"], np.tanh(W * 0.5))
    assert aux["scale"] == 0.5 and aux["tag"] == (1.0,)
    (value, aux2), gradient2 = ad.value_and_grad(with_aux, has_aux=True)(W,
                                                                          0.5)
    assert value == pytest.approx(with_aux(W, 0.5)[0])
    np.testing.assert_allclose(gradient2, gradient)
    np.testing.assert_allclose(aux2["preds"], aux["preds"])


def vector_output(W):
    return np.tanh(W) * 2.0


def summed(W):
    return np.sum(W, axis=0)


def mismatched(W, b):
    return np.sum(W + b)  # shapes (3,) and (2,)


def test_non_scalar_output_is_an_error_like_jax():
    with pytest.raises(ad.OutputError) as info:
        ad.grad(summed)(np.ones((2, 3)))
    assert str(info.value).startswith(
        "Gradient only defined for scalar-output functions. Output had "
        "shape: (3,). summed (")
    assert "wrap the result in np.sum(...)" in str(info.value)


def test_a_purely_elementwise_function_is_differentiated_elementwise():
    grid = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(ad.grad(vector_output)(grid),
                               2 * (1 - np.tanh(grid) ** 2))


def test_int_leaves_in_differentiated_arguments_are_refused():
    with pytest.raises(ad.InputError, match=r"grad requires floating-point "
                       r"inputs, but argument params\['W'\] has dtype int64"):
        ad.grad(dict_loss)({"W": np.array([1, 2]), "b": 0.5})
    # Integer data in an argument that is not differentiated is fine.
    assert ad.grad(mismatched_ok)(np.array([0.5, 1.0]), np.array([1, 2])) \
        .tolist() == [1.0, 2.0]


def mismatched_ok(W, counts):
    return np.sum(W * counts)


def test_broadcast_errors_point_at_the_users_line():
    with pytest.raises(ad.ShapeError) as info:
        ad.grad(mismatched)(np.ones(3), np.ones(2))
    assert info.value.msg == ("operands could not be broadcast together with "
                              "shapes (2,) (3,)")
    assert info.value.lineno == mismatched.__code__.co_firstlineno + 1
    assert pathlib.Path(info.value.filename).name == HERE


def test_source_of_an_array_gradient_needs_example_arguments():
    df = ad.grad(dict_loss)
    df.generated.clear()  # (the same transform as other tests')
    with pytest.raises(ad.AutodiffError) as info:
        ad.source(df)
    assert str(info.value) == (
        "grad_dict_loss is generated per input signature (its code depends "
        "on the arguments' structure, shapes and dtypes), and it has not "
        "been called yet: pass example arguments, e.g. ad.source(df, W, b).")
    text = ad.source(df, {"W": np.array([0.3, -1.2]), "b": 0.7})
    assert "params_W = params['W']" in text


def test_source_without_arguments_shows_the_code_the_calls_ran():
    df = ad.grad(dict_loss)
    df.generated.clear()
    df({"W": np.array([0.3, -1.2]), "b": 0.7})
    df({"W": np.array([0.3, -1.2, 2.0]), "b": 0.7})  # (code for any size)
    assert ad.source(df) == ad.source(df, {"W": np.ones(2), "b": 0.7})
    df({"W": np.array([0.3, -1.2], dtype=np.float32),
        "b": np.float32(0.7)})
    with pytest.raises(ad.AutodiffError, match=r"and it has run at 2 of "
                       r"them: pass example arguments, e\.g\. "):
        ad.source(df)


def from_a_list(x, scale=3.0):
    parts = [x, scale * x, np.sin(x)]  # (a list: array code)
    return parts[0] * parts[2] + parts[1]


def test_source_without_arguments_shows_the_code_for_floats():
    # As scalar code's source does; with the defaults as they are.
    gradient = ad.grad(from_a_list)
    transform_of(gradient).generated.clear()
    text = ad.source(gradient)
    assert text.startswith("def dfrom_a_list_dx(x, scale=3.0):")
    assert "Generated by autodiff_ast for x: float, scale: float." in text
    assert text.split('"""')[2] == (
        "\n    return scale + x * np.cos(x) + np.sin(x)\n")
    assert ad.source(ad.hessian(from_a_list)).split('"""')[2] == (
        "\n    return 2 * np.cos(x) - x * np.sin(x)\n")
    # After calls at several signatures, still the code for floats.
    gradient(np.ones(3))
    gradient(np.float32(0.5), np.float32(2.0))
    assert ad.source(gradient) == text
    # Code that does not take numbers still asks for example arguments.
    with pytest.raises(ad.AutodiffError, match="it has not been called yet"):
        ad.source(ad.grad(lambda w: np.sum(w @ w)))


def test_code_is_generated_per_rank_and_dtype_not_per_size():
    df = ad.grad(dict_loss)
    df.generated.clear()
    small = df({"W": np.array([0.3, 0.5]), "b": 0.7})
    longer = df({"W": np.array([0.3, 0.1, -0.2]), "b": 0.7})
    assert len(df.generated) == 1  # the code reads W's size when it runs
    matrix = df({"W": np.array([[0.3, 0.1]]), "b": 0.7})
    single = df({"W": np.array([0.6], dtype=np.float32), "b": 0.2})
    # float32, and an axis of 1 (which broadcasts): code of their own
    assert len(df.generated) == 3
    assert small["W"].shape == (2,) and single["W"].shape == (1,)
    assert longer["W"].shape == (3,) and matrix["W"].shape == (1, 2)
    assert single["W"].dtype == np.float32
    np.testing.assert_allclose(
        longer["W"], 0.7 * (1 - np.tanh([0.3, 0.1, -0.2]) ** 2), rtol=1e-15)


def test_the_gradient_of_a_gradient_that_is_a_dict_is_refused_clearly():
    # (It said "dict_loss returns dict": the gradient returns it, and the
    # fix it gave, has_aux, is not the user's to take there.)
    with pytest.raises(ad.OutputError) as info:
        ad.grad(ad.grad(dict_loss))({"W": np.array([0.3, -1.2]), "b": 0.7})
    assert str(info.value) == (
        f"the gradient of dict_loss ({os.path.relpath(__file__)}:"
        f"{dict_loss.__code__.co_firstlineno}) returns a dict, which is not "
        "a number: grad needs a scalar output.")


def test_lambdas_with_array_operations():
    df = ad.grad(lambda w: np.sum(w ** 2))
    np.testing.assert_allclose(df(np.array([1.0, -2.0])), [2.0, -4.0])
    assert ad.source(df, np.ones(2)).startswith("def grad_lambda(w):")


def test_a_numpy_scalar_leaf_gets_a_numpy_scalar_gradient_even_when_constant():
    def f(p):
        return np.sum(p["w"] ** 2) + 3.0 * p["b"]

    scalar = ad.grad(f)({"w": np.ones(2, np.float32), "b": np.float32(1.0)})
    assert type(scalar["b"]) is np.float32 and scalar["b"] == 3.0
    zero_d = ad.grad(f)({"w": np.ones(2, np.float32),
                         "b": np.array(1.0, np.float32)})
    assert type(zero_d["b"]) is np.ndarray and zero_d["b"].shape == ()
    assert zero_d["b"].dtype == np.float32


class State(typing.NamedTuple):
    pos: float
    vel: float


def made_pair(x):
    return Params(np.sin(x), x * 2.0)


def made_state(x):
    return State(vel=x ** 2, pos=np.tanh(x))


def oscillator(x):
    state = State(x, 2.0 * x)
    for _ in range(3):
        state = State(state.pos + 0.1 * state.vel,
                      state.vel - 0.1 * state.pos)
    return state.pos * state.vel


def test_namedtuples_made_in_the_function():
    # JAX returns a Jacobian in the output's own node types.
    jacobian = ad.jacobian(made_pair)(0.3)
    assert type(jacobian) is Params
    assert jacobian == (pytest.approx(np.cos(0.3), rel=1e-14), 2.0)
    state = ad.jacobian(made_state)(0.3)
    assert type(state) is State
    assert state == (pytest.approx(1 / np.cosh(0.3) ** 2, rel=1e-14),
                     pytest.approx(0.6, rel=1e-14))
    x = np.array([0.3, -0.2])
    rows = ad.jacobian(made_pair)(x)
    assert type(rows) is Params
    np.testing.assert_allclose(rows.W, np.diag(np.cos(x)), rtol=1e-14)
    np.testing.assert_array_equal(rows.b, 2.0 * np.eye(2))
    h = 1e-6
    assert ad.grad(oscillator)(0.3) == pytest.approx(
        (oscillator(0.3 + h) - oscillator(0.3 - h)) / (2 * h), rel=1e-8)


def dense(x, W, b=None):
    y = x @ W
    if b is not None:
        y = y + b
    return np.sum(np.tanh(y) ** 2)


def dense_params(params, x):
    y = x @ params["W"]
    if params["b"] is not None:
        y = y + params["b"]
    return np.sum(np.tanh(y) ** 2)


def doubled_unless(x, scale=None):
    return 2 * x if scale is None else scale * x


def test_an_optional_argument_tested_against_none():
    # `b is not None` is decided when the code is generated: None is part
    # of the arguments' structure, for which code is made apart.
    x = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.2]])
    W = np.array([[0.1, -0.2], [0.3, 0.4]])
    b = np.array([0.5, -0.5])
    t = np.tanh(x @ W)
    expected = x.T @ (2 * t * (1 - t ** 2))
    np.testing.assert_allclose(ad.grad(dense, 1)(x, W), expected, rtol=1e-14)
    np.testing.assert_allclose(ad.grad(dense, 1)(x, W, None), expected,
                               rtol=1e-14)
    biased = np.tanh(x @ W + b)
    by_W, by_b = ad.grad(dense, (1, 2))(x, W, b)
    np.testing.assert_allclose(by_W, x.T @ (2 * biased * (1 - biased ** 2)),
                               rtol=1e-14)
    np.testing.assert_allclose(by_b, np.sum(2 * biased * (1 - biased ** 2),
                                            axis=0), rtol=1e-14)
    gradient = ad.grad(dense_params)({"W": W, "b": None}, x)
    assert gradient["b"] is None
    np.testing.assert_allclose(gradient["W"], expected, rtol=1e-14)
    assert ad.grad(doubled_unless)(3.0) == 2.0
    assert ad.grad(doubled_unless)(3.0, 5.0) == 5.0
    assert ad.grad(doubled_unless, 1)(3.0, 5.0) == 3.0
