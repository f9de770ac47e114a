"""The line wrapper: long generated lines break between tokens only, never
inside a string literal or a subscript, and mean what the long line meant.

Pytree keys reach generated code as string literals (``params['W']``), so
a key may put any text (quotes, operators, brackets, newlines) on a line.
"""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_ast as ad
from autodiff_ast._wrap import _wrap, _wrap_line


def statement(line: str) -> str:
    """The AST of an indented line, read as the body of a function."""
    return ast.dump(ast.parse("def f():\n" + line))


def test_a_key_holding_operators_and_quotes_is_not_broken():
    line = ("    tanh = np.tanh(x @ params[\"a'] + b * c, and some words (x\"]"
            " + params_b - params_c * 2)\n")
    assert _wrap_line(line) == (
        "    tanh = np.tanh(x @ params[\"a'] + b * c, and some words (x\"]"
        " + params_b\n"
        "                   - params_c * 2)\n")


def test_arguments_that_fit_nowhere_beside_the_call_start_a_line():
    # Aligned under the parenthesis, the product would end at column 80.
    line = ("    where_second_zero_1 = np.where(second_zero, first_zero_so_far"
            " * tail_sums_at_second_zero_11, 0)\n")
    assert _wrap_line(line) == (
        "    where_second_zero_1 = np.where(\n"
        "        second_zero, first_zero_so_far * tail_sums_at_second_zero_11,"
        " 0)\n")
    # Where an aligned layout fits, it is kept.
    line = ("    where_second_zero = np.where(second_zero, first_zero_so_far"
            " * tail_sums_at_second_zero_3, 0)\n")
    assert _wrap_line(line) == (
        "    where_second_zero = np.where(second_zero, (first_zero_so_far\n"
        "                                               * tail_sums_at_second"
        "_zero_3),\n"
        "                                 0)\n")


def test_commas_and_brackets_inside_keys_are_not_split_points():
    # A tuple breaks between its elements, not inside one.
    line = ("    return params[\"a'] + b * c, (and) some words + here\"], "
            "params['(b'] + params[\"c, d - e\"]\n")
    assert _wrap_line(line) == (
        "    return (params[\"a'] + b * c, (and) some words + here\"],\n"
        "            params['(b'] + params[\"c, d - e\"])\n")


def test_a_line_with_no_break_outside_strings_is_left_long():
    line = f"    params_k = params[{'a + b, c - d ' * 8!r}]\n"
    assert _wrap_line(line) == line


def test_a_row_stored_in_a_loop_is_wrapped_as_a_name_is():
    line = ("        grad_y[i_1, :] = y_i * np.cos(y_next_i) - 4 * y_i"
            " - 4 * y_after_i + 8 * y_next_i\n")
    assert _wrap_line(line) == (
        "        grad_y[i_1, :] = (y_i * np.cos(y_next_i) - 4 * y_i"
        " - 4 * y_after_i\n"
        "                          + 8 * y_next_i)\n")
    compared = "        grad_y[i_1] == y_i * np.cos(y_next_i) - 4 * y_i" \
        " - 4 * y_after_i + 8 * y_next_i\n"
    assert _wrap_line(compared) == compared  # not an assignment


def test_unary_minus_is_not_a_break():
    line = ("    value = -tanh_x * np.exp(-x) * (-sigmoid_a * -sigmoid_b) "
            "* x ** -1 * (-np.log(-y))\n")
    wrapped = _wrap_line(line)
    assert wrapped == (
        "    value = (-tanh_x * np.exp(-x) * (-sigmoid_a * -sigmoid_b) "
        "* x ** -1\n"
        "             * (-np.log(-y)))\n")


def test_lines_inside_a_multi_line_string_are_never_touched():
    long_sum = " + ".join(["value"] * 15)
    source = textwrap.dedent(f'''\
        def f(params):
            """Docstring.

            return {long_sum}
            """
            key = params["""first line
            return {long_sum}"""]
            return {long_sum}
        ''')
    wrapped = _wrap(source)
    lines = source.splitlines(keepends=True)
    assert wrapped.startswith("".join(lines[:-1]))  # all but the last line
    assert wrapped != source
    assert ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(source))


# Keys built from what confuses a reader of characters: operators, commas,
# brackets that close the subscript's own, quotes, backslashes, line
# breaks, letters of other scripts; and arbitrary text.
fragments = st.sampled_from([" + ", " - ", " * ", ", ", "(", ")", "[", "]",
                             "{", "}", "'", '"', '"""', "\\", "\n", "\r",
                             "\t", "#", "a", "b", " ", "é", "中", "🙂"])
hostile_keys = st.lists(fragments, min_size=1, max_size=60).map("".join)
keys = st.one_of(hostile_keys, st.text(max_size=200))
operands = st.sampled_from(["x", "tanh_x", "np.exp(-x)", "x ** 2", "0.5"])


@st.composite
def long_lines(draw) -> str:
    """One generated-looking statement holding keys among operators."""
    terms = []
    for _ in range(draw(st.integers(2, 8))):
        kind = draw(st.sampled_from(["key", "call", "operand"]))
        if kind == "key":
            terms.append(f"params[{draw(keys)!r}]")
        elif kind == "call":
            inner = " + ".join(f"params[{draw(keys)!r}]" for _ in range(
                draw(st.integers(1, 3))))
            terms.append(f"np.sum({inner}, axis=0)")
        else:
            terms.append(draw(operands))
    joiners = [draw(st.sampled_from([" + ", " - ", " * ", " / ", ", "]))
               for _ in terms[1:]]
    body = terms[0] + "".join(j + t for j, t in zip(joiners, terms[1:]))
    if ", " in joiners:
        body = f"np.stack(({body}))"
    head = draw(st.sampled_from(["    return ", "    grad_W = ",
                                 "        t0 = "]))
    return head + body + "\n"


@settings(max_examples=300)  # cheap: no generation
@given(long_lines())
def test_wrapped_lines_mean_what_the_long_line_meant(line):
    wrapped = _wrap_line(line)
    compile("def f():\n" + wrapped, "<wrapped>", "exec")
    assert statement(wrapped) == statement(line)
    for piece in wrapped.splitlines()[1:]:
        assert piece.startswith(" " * 8)  # continuation, aligned


@settings(max_examples=300)
@given(st.lists(keys, min_size=1, max_size=3))
def test_a_function_with_keys_in_docstring_and_body_compiles(key_list):
    body = " + ".join(f"params[{key!r}]" for key in key_list)
    docstring = "Keys: " + ", ".join(key_list)
    source = (f"def f(params):\n    {docstring!r}\n"
              f"    value = np.tanh({body} + {body})\n"
              f"    return {body} - value\n")
    wrapped = _wrap(source)
    assert ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(source))


def test_gradient_with_a_key_that_closes_its_subscript():
    key = "a'] + b * c, and some more words + to make - the line long (x"

    def loss(params, x):
        return np.sum(np.tanh(x @ params[key] + params["b"]) ** 2)

    params = {key: np.full((3, 2), 0.1), "b": np.zeros(2)}
    x = np.ones((4, 3))
    source = ad.source(ad.grad(loss), params, x)
    assert f"= params[{key!r}]\n" in source
    gradient = ad.grad(loss)(params, x)
    t = np.tanh(0.3)  # every element of x @ W + b
    per_row = 2 * t * (1 - t * t)  # d tanh(z)**2 / dz, summed over 4 rows
    np.testing.assert_allclose(gradient["b"], np.full(2, 4 * per_row))
    np.testing.assert_allclose(gradient[key], np.full((3, 2), 4 * per_row))


# (Names made from keys: see the test after this one.)
@given(st.lists(hostile_keys, min_size=2, max_size=3, unique=True))
def test_gradients_of_code_with_any_key_compile_and_are_right(key_list):
    def loss(params, weights):
        total = 0.0
        for key in weights:
            total = total + np.sum(params[key] * weights[key])
        return total

    weights = {key: np.arange(3.0) + index
               for index, key in enumerate(key_list)}
    params = {key: np.ones(3) for key in key_list}
    gradient = ad.grad(loss)(params, weights)
    for key in key_list:
        np.testing.assert_array_equal(gradient[key], weights[key])


@pytest.mark.parametrize("key_list", [("ﬁ", "fi"), ("x²", "y")],
                         ids=["nfkc-equal", "superscript"])
def test_names_made_from_keys_are_distinct_identifiers(key_list):
    def loss(params, weights):
        return (np.sum(params[key_list[0]] * weights[key_list[0]])
                + np.sum(params[key_list[1]] * weights[key_list[1]]))

    weights = {key: np.arange(3.0) + index
               for index, key in enumerate(key_list)}
    params = {key: np.ones(3) for key in key_list}
    gradient = ad.grad(loss)(params, weights)
    for key in key_list:
        np.testing.assert_array_equal(gradient[key], weights[key])


def test_a_long_signature_is_filled_and_aligned_with_its_parenthesis():
    line = ("def grad_cotangent_dot_output(primal_0, primal_1, cotangent_0, "
            "cotangent_1, cotangent_2=(1, 2)):\n")
    assert _wrap_line(line) == (
        "def grad_cotangent_dot_output(primal_0, primal_1, cotangent_0, "
        "cotangent_1,\n"
        "                              cotangent_2=(1, 2)):\n")
    short = "def f(a, b=(1, 2), c=3):\n"
    assert _wrap_line(short) == short


def test_an_item_with_a_long_index_is_broken_inside_its_brackets():
    line = ("    d_x_tangent[argsort_x_part, arange_part, arange_1_part, "
            "arange_part_1] = d_x_taken_tangent_1\n")
    assert _wrap_line(line) == (
        "    d_x_tangent[argsort_x_part, arange_part, arange_1_part,\n"
        "                arange_part_1] = d_x_taken_tangent_1\n")


def test_an_item_with_a_short_index_and_a_long_value_breaks_the_value():
    line = ("        tangent_tangent_Y_3[index_2, 0] = Y_part_1_tangent + "
            "Y_part_1_tangent_2 * h + Y_part_tangent_ta\n")
    assert _wrap_line(line) == (
        "        tangent_tangent_Y_3[index_2, 0] = (Y_part_1_tangent\n"
        "                                           + Y_part_1_tangent_2 * h\n"
        "                                           + Y_part_tangent_ta)\n")


def test_a_value_that_is_one_long_subscript_breaks_inside_it_as_black():
    line = ("    partial_expanded_expanded_1 = partial_expanded_tangent[:, :, :,"
            " :, None, None]\n")
    wrapped = _wrap_line(line)
    assert wrapped == ("    partial_expanded_expanded_1 = "
                       "partial_expanded_tangent[\n"
                       "        :, :, :, :, None, None\n"
                       "    ]\n")
    assert statement(wrapped) == statement(line)
    # A subscript beside an operator is not the whole value: kept whole.
    line = ("    total = offset + partial_expanded_tangent_values[:, :, :, :,"
            " None, None]\n")
    assert _wrap_line(line) == line


def test_the_parts_of_a_call_unpacked_are_wrapped_as_a_name_is():
    # (was left at 89 columns: the parts of an SVD of a long-named value)
    line = ("        u_dot_A_1_A_1_T, s_dot_A_1_A_1_T, vh_dot_A_1_A_1_T = "
            "np.linalg.svd(dot_A_1_A_1_T)\n")
    assert _wrap_line(line) == (
        "        u_dot_A_1_A_1_T, s_dot_A_1_A_1_T, vh_dot_A_1_A_1_T = "
        "np.linalg.svd(\n"
        "            dot_A_1_A_1_T)\n")
    assert ast.dump(ast.parse(_wrap_line(line).strip())) == ast.dump(
        ast.parse(line.strip()))
    # (a target that is not names alone is left as it is)
    unpacked = "        a[0], b = " + "f(" + "x" * 70 + ")\n"
    assert _wrap_line(unpacked) == unpacked
