"""The printed source of a derivative of array code returns what the
derivative returns: the gradient of a dict of arguments as a dict, a
tuple of one for ``argnums=(0,)``, a Hessian by two arguments as tuples
of tuples. Pasted into a file, it is a drop-in for the handle."""

import collections

import numpy as np
import optree

import autodiff_ast as ad

Params = collections.namedtuple("Params", "w b")
X = np.array([0.5, -1.0, 2.0])


def dict_loss(p, x):
    return np.sum(p["w"] * x) ** 2 + p["b"] ** 2


def scaled(x, s):
    return np.sum(np.sin(x) * s)


def pair_loss(p, x):
    return np.sum((p.w * x + p.b) ** 2)


def printed(derivative, *args):
    """The function the printed source of ``derivative`` defines."""
    text = ad.source(derivative, *args)
    namespace = {"np": np}
    exec(compile(text, "<printed>", "exec"), namespace)
    return namespace[text.split("def ", 1)[1].split("(", 1)[0]], text


def assert_same(got, expected):
    assert optree.tree_structure(got) == optree.tree_structure(expected)
    for a, b in zip(optree.tree_leaves(got), optree.tree_leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def assert_returns(derivative, ending, *args):
    """The printed source of ``derivative`` ends in ``ending`` and gives
    what the handle gives."""
    function, text = printed(derivative, *args)
    assert text.endswith(ending), text
    assert_same(function(*args), derivative(*args))


def test_a_dict_gradient_is_returned_as_a_dict():
    p = {"w": np.array([0.3, 0.2, -0.1]), "b": 0.7}
    derivative = ad.grad(dict_loss)
    function, text = printed(derivative, p, X)
    assert text.endswith("    return {'w': grad_p_w, 'b': grad_p_b}\n")
    assert_same(function(p, X), derivative(p, X))


def test_tuples_as_argnums_give_them():
    cases = [(ad.grad(scaled, argnums=(0,)), "    return s * np.cos(x),"),
             (ad.value_and_grad(scaled, argnums=(0, 1)),
              "    return value, (grad_x, grad_s)"),
             (ad.hessian(scaled, argnums=(0, 1)),
              "    return (d2_dx2, d2_dx_ds), (d2_ds_dx, 0.0)")]
    for derivative, returned in cases:
        function, text = printed(derivative, X, 2.0)
        assert returned in text, text
        assert_same(function(X, 2.0), derivative(X, 2.0))


def test_a_namedtuple_is_returned_as_its_leaves_the_handle_puts_in_it():
    p = Params(np.array([0.3, 0.2, -0.1]), 0.7)
    derivative = ad.grad(pair_loss)
    function, text = printed(derivative, p, X)
    assert text.splitlines()[-1].startswith("    return grad_p_")
    assert isinstance(derivative(p, X), Params)
    got, expected = function(p, X), derivative(p, X)
    assert isinstance(got, tuple) and len(got) == 2
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def nested(p):
    return {"a": {"x": p["w"] * 2, "y": (p["w"] ** 2, p["b"])}}


def test_a_nested_pytree_breaks_inside_each_bracket_too_long():
    assert_returns(ad.jacobian(nested), (
        "    return {'a': {'x': {'w': jacobian_a_x_w, 'b': jacobian_a_x_b},\n"
        "                  'y': ({'w': jacobian_a_y_0_w, 'b': jacobian_a_y_0_b},\n"
        "                        {'w': jacobian_a_y_1_w,"
        " 'b': jacobian_a_y_1_b})}}\n"),
                   {"w": np.array([0.3, 0.2, -0.1]), "b": 0.7})


def deep(p):
    weights = p["weights_of_the_layer"]
    return {"layer": {"kernel_weights": weights * 2,
                      "offsets": (weights ** 2, p["bias_term"])}}


def test_a_pytree_too_deep_to_align_is_laid_out_as_black_would():
    p = {"weights_of_the_layer": np.array([0.3, 0.2, -0.1]),
         "bias_term": 0.7}
    assert_returns(ad.jacobian(deep), (
        "    return {\n"
        "        'layer': {\n"
        "            'kernel_weights': {\n"
        "                'weights_of_the_layer': jacobian_layer_kernel_we_1,\n"
        "                'bias_term': jacobian_layer_kernel_we,\n"
        "            },\n"
        "            'offsets': (\n"
        "                {\n"
        "                    'weights_of_the_layer':"
        " jacobian_layer_offsets_0,\n"
        "                    'bias_term': jacobian_layer_offsets_0_1,\n"
        "                },\n"
        "                {\n"
        "                    'weights_of_the_layer':"
        " jacobian_layer_offsets_1_1,\n"
        "                    'bias_term': jacobian_layer_offsets_1,\n"
        "                },\n"
        "            ),\n"
        "        },\n"
        "    }\n"), p)
