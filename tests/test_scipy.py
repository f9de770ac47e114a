"""SciPy's special functions: spelled as SciPy's in generated code, stable
where the obvious formula is not, and optional.

The rules table's SciPy rows are checked against central differences in
test_primitives.py; here are their tails (against mpmath), the source they
print, higher derivatives of generated code (closure), export, and what
happens without SciPy (in a subprocess that hides it).
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import textwrap

import mpmath
import numpy as np
import pytest

import autodiff_ast as ad
import cli_in_process

try:
    import scipy.special as sc
    import scipy.stats as stats
except ImportError:  # optional: the tests that need it skip
    sc = stats = None

requires_scipy = pytest.mark.skipif(sc is None,
                                    reason="SciPy is not installed")


def body(fn, *example) -> str:
    """The generated source after its docstring."""
    return ad.source(fn, *example).split('"""')[-1].strip()


def calls(fn) -> set[str]:
    """The dotted names of the functions generated code calls."""
    tree = ast.parse(ad.source(fn))
    return {ast.unparse(node.func) for node in ast.walk(tree)
            if isinstance(node, ast.Call)}


def exact(function, x, order=1):
    with mpmath.workdps(60):
        return float(mpmath.diff(function, mpmath.mpf(x), order))


# -- spelling ----------------------------------------------------------------

@requires_scipy
def test_scipy_code_derives_to_scipy_code():
    def f(x):
        return sc.expit(x) * sc.erf(x)

    gradient = ad.grad(f)
    assert calls(gradient) == {"scipy.special.expit", "scipy.special.erf",
                               "np.exp", "np.sqrt", "float"}
    expected = exact(lambda t: mpmath.erf(t) / (1 + mpmath.exp(-t)), 0.3)
    assert gradient(0.3) == pytest.approx(expected, rel=1e-14)


@requires_scipy
def test_recognised_by_object_under_any_name():
    from scipy.special import expit as sigmoid

    def f(x):
        return sigmoid(x)

    assert body(ad.grad(f)) == (
        "return scipy.special.expit(-x) * scipy.special.expit(x)")
    # This module never binds the name scipy: the generated code gets it.
    assert "scipy" not in globals()
    assert ad.grad(f)(0.0) == 0.25


def test_math_special_functions_stay_math_in_math_code():
    def f(x):
        return math.erf(x) + math.erfc(2 * x)

    gradient = ad.grad(f)
    assert calls(gradient) == {"math.exp", "math.sqrt"}
    expected = exact(lambda t: mpmath.erf(t) + mpmath.erfc(2 * t), 0.3)
    assert gradient(0.3) == pytest.approx(expected, rel=1e-14)


@requires_scipy
def test_math_special_functions_in_numpy_code_take_arrays_through_scipy():
    def f(x):
        return math.erf(x) * np.exp(x)

    gradient = ad.grad(f)
    assert "scipy.special.erf(x)" in body(gradient)
    x = np.array([0.1, 0.5])
    expected = [exact(lambda t: mpmath.erf(t) * mpmath.exp(t), v) for v in x]
    np.testing.assert_allclose(gradient(x), expected, rtol=1e-14)


@requires_scipy
def test_digamma_is_polygamma_of_order_zero_and_derives_to_polygamma():
    assert body(ad.grad(math.lgamma)) == "return scipy.special.digamma(x)"
    assert body(ad.derivative(math.lgamma, 2)) == (
        "return scipy.special.polygamma(1, x)")
    assert body(ad.derivative(sc.gammaln, 3)) == (
        "return scipy.special.polygamma(2, x)")
    assert ad.derivative(sc.gammaln, 3)(2.5) == pytest.approx(
        exact(mpmath.loggamma, 2.5, 3), rel=1e-13)


@requires_scipy
def test_polygamma_order_must_be_an_integer():
    def f(x):
        return sc.polygamma(1.5, x)

    def listed(x):
        parts = [x, 1.0]  # (array code: a list of numbers)
        return sc.polygamma(1.5, parts[0])

    for function in (f, listed):  # each when the derivative is made
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)
        assert info.value.msg == (
            "cannot differentiate this expression: scipy.special.polygamma"
            "(n, x) takes an integer order n >= 0, not 3/2")


# -- values where the obvious formula fails -------------------------------

@requires_scipy
def test_log_ndtr_derivatives_keep_their_digits_in_the_lower_tail():
    # pdf/cdf is 0/0 below -38; JAX's exp(logpdf - log_ndtr) keeps 7
    # digits at -1e5 (99999.96830400758) and its second derivative none.
    first = ad.grad(sc.log_ndtr)
    second = ad.derivative(sc.log_ndtr, 2)
    log_cdf = lambda t: mpmath.log(mpmath.ncdf(t))  # noqa: E731
    for x in (-1e5, -1000.0, -40.0, -5.0, 0.0, 5.0):
        assert first(x) == pytest.approx(exact(log_cdf, x), rel=1e-13)
        assert second(x) == pytest.approx(exact(log_cdf, x, 2), rel=3e-6)
    assert first(40.0) == 0.0 and second(40.0) == 0.0  # not inf/inf
    assert body(first) == (
        "t = float(np.sqrt(2))\n"
        "    return t / (float(np.sqrt(np.pi)) * scipy.special.erfcx(-0.5 * t "
        "* x))"
    )


@requires_scipy
def test_expit_derivative_has_no_one_minus_expit():
    # expit(x) * (1 - expit(x)) is 0 from x = 37 on (expit rounds to 1).
    gradient = ad.grad(sc.expit)
    for x in (-700.0, -40.0, 0.0, 40.0, 700.0):
        expected = exact(lambda t: 1 / (1 + mpmath.exp(-t)), x)
        assert gradient(x) == pytest.approx(expected, rel=1e-14)


@requires_scipy
def test_cross_entropy_gradient_is_the_difference_in_both_tails():
    # d/dp log1p(-p) brings 1 - expit(z), which is 0.0 from z = 37 on:
    # written expit(-z) it does not cancel (JAX: nan at z = 40).
    def cross_entropy(z, y):
        p = sc.expit(z)
        return -(sc.xlogy(y, p) + sc.xlog1py(1 - y, -p))

    gradient = ad.grad(cross_entropy)
    assert body(gradient) == ("return (1 - y) * scipy.special.expit(z) "
                              "- y * scipy.special.expit(-z)")
    for z in (-40.0, -1.0, 40.0):
        for y in (0.0, 1.0):
            expected = 1 / (1 + mpmath.exp(-z)) - y
            assert gradient(z, y) == pytest.approx(float(expected),
                                                   rel=1e-15)


@requires_scipy
def test_one_minus_a_cdf_is_written_as_its_complement():
    def survival(x):
        return 1 - sc.ndtr(x) + 2 * (1 - math.erf(x))

    assert calls(ad.value_and_grad(survival)) >= {"scipy.special.ndtr",
                                                   "scipy.special.erfc"}
    assert ad.value_and_grad(survival)(9.0)[0] == pytest.approx(
        float(mpmath.ncdf(-9) + 2 * mpmath.erfc(9)), rel=1e-14)


@requires_scipy
def test_erfinv_derivative_near_one():
    gradient = ad.grad(sc.erfinv)
    for x in (0.999999, 1 - 2 ** -40, -0.5):
        assert gradient(x) == pytest.approx(exact(mpmath.erfinv, x),
                                            rel=1e-9)


@requires_scipy
def test_xlogy_is_zero_at_x_zero_with_jax_derivatives():
    gradient = ad.grad(sc.xlogy, argnums=(0, 1))
    assert body(gradient) == ("grad_x = np.log(y)\n"
                              "    grad_y = x / y\n"
                              "    return grad_x, grad_y")
    assert sc.xlogy(0.0, 0.0) == 0.0
    assert gradient(0.0, 2.0) == (math.log(2.0), 0.0)
    # At (0, 0) the function is 0 for every y; JAX's derivatives are
    # log(0) and 0/0 there, and so are ours.
    with np.errstate(divide="ignore", invalid="ignore"):
        dx, dy = gradient(np.float64(0.0), np.float64(0.0))
    assert dx == -np.inf and np.isnan(dy)
    gradient = ad.grad(sc.xlog1py, argnums=(0, 1))
    assert body(gradient) == ("grad_x = np.log1p(y)\n"
                              "    grad_y = x / (y + 1)\n"
                              "    return grad_x, grad_y")
    assert gradient(0.0, 1.0) == (math.log(2.0), 0.0)


# -- logsumexp, softmax, log_softmax: array functions, max-shifted ----------

def lse_all(x):
    return sc.logsumexp(x)


def lse_rows_squared(x):
    return np.sum(sc.logsumexp(x, axis=1) ** 2)


def lse_weighted(x, b):
    return np.sum(sc.logsumexp(x, axis=-1, b=b, keepdims=True) * x)


def lse_columns_kept(x):
    return np.sum(np.sin(sc.logsumexp(x, axis=0, keepdims=True)) * x)


def softmax_weighted(x, w):
    return np.sum(w * sc.softmax(x, axis=1))


def softmax_all(x):
    return np.sum(sc.softmax(x) ** 2)


def log_softmax_columns(x):
    return np.sum(np.cos(sc.log_softmax(x, axis=0)))


def cross_entropy(logits, onehot):
    return -np.sum(onehot * sc.log_softmax(logits, axis=1))


def cross_entropy_labels(logits, labels):
    rows = np.arange(logits.shape[0])
    return -np.mean(sc.log_softmax(logits, axis=1)[rows, labels])


def _numeric(function, args, argnum):
    from helpers import numeric_gradient
    return numeric_gradient(function, args, argnum)


LOG_SUM_EXP_CASES = {
    "logsumexp": (lse_all, (0,)),
    "logsumexp axis": (lse_rows_squared, (0,)),
    "logsumexp b keepdims": (lse_weighted, (0, 1)),
    "logsumexp axis 0 keepdims": (lse_columns_kept, (0,)),
    "softmax axis": (softmax_weighted, (0, 1)),
    "softmax": (softmax_all, (0,)),
    "log_softmax axis 0": (log_softmax_columns, (0,)),
    "cross-entropy": (cross_entropy, (0,)),
    "cross-entropy labels": (cross_entropy_labels, (0,)),
}


def _arguments(function):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(4, 3))
    if function is lse_weighted:
        return x, rng.uniform(0.5, 2.0, size=3)
    if function is softmax_weighted:
        return x, rng.normal(size=(4, 3))
    if function is cross_entropy:
        return x, np.eye(3)[[0, 2, 1, 1]]
    if function is cross_entropy_labels:
        return x, np.array([0, 2, 1, 1])
    return (x,)


@requires_scipy
@pytest.mark.parametrize("name", sorted(LOG_SUM_EXP_CASES))
def test_log_sum_exp_family_matches_central_differences_and_scipy(name):
    function, argnums = LOG_SUM_EXP_CASES[name]
    args = _arguments(function)
    value, grads = ad.value_and_grad(function, argnums=argnums)(*args)
    assert value == pytest.approx(function(*args), rel=1e-14)
    for argnum, grad in zip(argnums, grads):
        np.testing.assert_allclose(grad, _numeric(function, args, argnum),
                                   rtol=1e-7, atol=1e-9)
        assert np.shape(grad) == np.shape(args[argnum])


@requires_scipy
def test_logsumexp_is_written_from_the_shifted_exponentials():
    # The gradient is the softmax, from the same exp(x - max) and sum as
    # the value (SciPy's own formula); a call of scipy.special.logsumexp
    # would compute them and throw them away.
    x = np.array([[0.5, -1.0, 2.0]])
    source = ad.source(ad.value_and_grad(lse_all), x)
    assert source.endswith(
        "    x_max = np.max(x)\n"
        "    exp_x = np.exp(x - x_max)\n"
        "    sum_exp_x = np.sum(exp_x)\n"
        "    value = x_max + np.log(sum_exp_x)\n"
        "    grad_x = exp_x / sum_exp_x\n"
        "    return value, grad_x\n")


@requires_scipy
def test_log_sum_exp_family_is_finite_where_the_naive_form_overflows():
    # JAX's grad of the naive log(sum(exp(x))) is nan here; SciPy's own
    # functions and their derivatives (by the formula) are finite.
    big = np.array([[1000.0, 1000.0], [-1000.0, 999.0]])
    np.testing.assert_array_equal(ad.grad(lse_all)(big[:1]), [[0.5, 0.5]])
    onehot = np.array([[1.0, 0.0], [1.0, 0.0]])
    value, grad = ad.value_and_grad(cross_entropy)(big, onehot)
    assert value == pytest.approx(np.log(2) + 1999.0, rel=1e-15)
    np.testing.assert_array_equal(grad, [[-0.5, 0.5], [-1.0, 1.0]])
    p = sc.softmax(big)  # d/dx sum(p**2) = 2 p (p - sum(p**2))
    np.testing.assert_allclose(ad.grad(softmax_all)(big),
                               2 * p * (p - np.sum(p ** 2)), rtol=1e-14)
    assert np.all(np.isfinite(ad.grad(log_softmax_columns)(big)))


def _printed(function, *example):
    """The printed gradient of ``function`` for ``example``'s sizes, exec'd
    as a user would: in a namespace holding only NumPy."""
    source = ad.source(ad.grad(function), *example)
    namespace = {"np": np}
    exec(source, namespace)
    return namespace[source.split("(", 1)[0].removeprefix("def ")]


@requires_scipy
@pytest.mark.parametrize("function", [lse_rows_squared, lse_columns_kept,
                                      softmax_all, log_softmax_columns])
def test_log_sum_exp_family_code_runs_at_any_size(function):
    rng = np.random.default_rng(5)
    gradient = _printed(function, rng.normal(size=(4, 3)))
    for shape in ((7, 3), (2, 5)):
        x = rng.normal(size=shape)
        np.testing.assert_allclose(gradient(x), ad.grad(function)(x),
                                   rtol=1e-14)


@requires_scipy
def test_logsumexp_takes_a_list_of_numbers_as_scipy_does():
    def pooled(x, y):
        return sc.logsumexp([x, y, 2 * x], b=[1.0, 2.0, 0.5])

    dx, dy = ad.grad(pooled, argnums=(0, 1))(0.3, -1.2)
    weights = np.array([1.0, 2.0, 0.5]) * np.exp([0.3, -1.2, 0.6])
    assert dx == pytest.approx((weights[0] + 2 * weights[2]) / weights.sum(),
                               rel=1e-14)
    assert dy == pytest.approx(weights[1] / weights.sum(), rel=1e-14)


@requires_scipy
def test_log_sum_exp_family_recognised_by_object_and_refusals():
    from scipy.special import logsumexp as lse

    def renamed(x):
        return lse(x, axis=0)

    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(ad.grad(renamed)(x), sc.softmax(x),
                               rtol=1e-15)
    assert ad.grad(lambda v: sc.softmax(v))(1.5) == 0  # 0-d: constant 1

    def signed(x):
        return sc.logsumexp(x, return_sign=True)[0]

    def too_wide(x, b):
        return sc.logsumexp(x, b=b)

    for function, args, message in [
            (signed, (x,), "logsumexp with return_sign=True is not "
             "supported: the sign it returns has no derivative; with weights "
             "b >= 0 the sign is 1, so leave return_sign out"),
            (too_wide, (x, np.ones((3, 2))), "logsumexp's weights b (3, 2) "
             "are larger than the array (2,): b must broadcast to the "
             "array's shape")]:
        with pytest.raises(ad.UnsupportedCodeError) as info:
            ad.grad(function)(*args)
        assert info.value.msg == message
        assert info.value.lineno == function.__code__.co_firstlineno + 1


# -- scipy.stats.norm: lowered to arithmetic, ndtr and log_ndtr ------------

def normal_log_likelihood(x, mu, sigma):
    return np.sum(stats.norm.logpdf(x, loc=mu, scale=sigma))


@requires_scipy
def test_norm_log_likelihood_gradient_is_the_closed_form():
    x = np.array([0.3, -1.0, 2.5])
    gradient = ad.grad(normal_log_likelihood, argnums=(1, 2))
    dmu, dsigma = gradient(x, 0.2, 1.5)
    assert dmu == pytest.approx(np.sum(x - 0.2) / 1.5 ** 2, rel=1e-14)
    assert dsigma == pytest.approx(
        np.sum((x - 0.2) ** 2) / 1.5 ** 3 - 3 / 1.5, rel=1e-14)
    assert ad.source(gradient, x, 0.2, 1.5).endswith(
        "    t = x - mu\n"
        "    sigma_sq = sigma ** 2\n"
        "    grad_mu = np.sum(t / sigma_sq)\n"
        "    grad_sigma = np.sum((t ** 2 / sigma_sq - 1) / sigma)\n"
        "    return grad_mu, grad_sigma\n")


@requires_scipy
def test_norm_logcdf_keeps_its_digits_in_the_lower_tail():
    # Through log_ndtr: pdf/cdf would be 0/0 below -38.
    def log_cdf(x):
        return stats.norm.logcdf(x, 1.0, 2.0)

    gradient = ad.grad(log_cdf)
    for x in (-1e4, -100.0, 0.0, 3.0):
        expected = exact(lambda t: mpmath.log(mpmath.ncdf((t - 1) / 2)), x)
        assert gradient(x) == pytest.approx(expected, rel=1e-13)
    assert ad.grad(lambda x: stats.norm.cdf(x))(0.0) == pytest.approx(
        1 / math.sqrt(2 * math.pi), rel=1e-15)


@requires_scipy
def test_norm_methods_refuse_arguments_they_do_not_take():
    def four(x):
        return stats.norm.logpdf(x, 0.0, 1.0, 2.0)

    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(four)
    assert info.value.msg == ("stats.norm.logpdf() takes x, and loc and "
                              "scale (numbers or arrays) here")
    assert info.value.lineno == four.__code__.co_firstlineno + 1


def test_scipy_stats_joins_the_table_when_imported_after_scipy_special():
    code = textwrap.dedent("""
        import scipy.special
        import autodiff_ast as ad
        print(ad.grad(scipy.special.expit)(0.0))
        import scipy.stats
        print(ad.grad(scipy.stats.norm.logpdf)(0.5, 0.0, 1.0))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True)
    if sc is None:
        pytest.skip("SciPy is not installed")
    assert result.stdout.split() == ["0.25", "-0.5"], result.stderr


# -- closure: derivatives of generated code, against mpmath -----------------

CLOSURE = {} if sc is None else {
    "expit": (sc.expit, lambda t: 1 / (1 + mpmath.exp(-t)), 0.7),
    "logit": (sc.logit, lambda t: mpmath.log(t / (1 - t)), 0.3),
    "ndtr": (sc.ndtr, mpmath.ncdf, 0.7),
    "log_ndtr": (sc.log_ndtr, lambda t: mpmath.log(mpmath.ncdf(t)), -2.0),
    "erfcx": (sc.erfcx, lambda t: mpmath.exp(t ** 2) * mpmath.erfc(t), 1.5),
    "erfinv": (sc.erfinv, mpmath.erfinv, 0.3),
    "gammaln": (sc.gammaln, mpmath.loggamma, 2.5),
    "lgamma below 0": (math.lgamma,
                       lambda t: mpmath.re(mpmath.loggamma(t)), -2.5),
    "gamma": (math.gamma, mpmath.gamma, 2.5),
    "digamma": (sc.digamma, mpmath.digamma, 2.5),
}


@requires_scipy
@pytest.mark.parametrize("name", sorted(CLOSURE))
def test_third_derivative_of_generated_code_matches_mpmath(name):
    function, reference, x = CLOSURE[name]
    for order in (1, 2, 3):
        assert ad.derivative(function, order)(x) == pytest.approx(
            exact(reference, x, order), rel=1e-10), order


# -- export and optional installation --------------------------------------

@requires_scipy
def test_export_imports_scipy_special(tmp_path):
    output = tmp_path / "grads.py"
    result = cli_in_process.run("export", "scipy.special:expit", "--order",
                                "2", "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "\n\nimport scipy.special\n\n\ndef dexpit_dx(x):" in text
    namespace: dict = {}
    exec(compile(text, str(output), "exec"), namespace)
    assert namespace["dexpit_dx"](0.0) == 0.25
    assert namespace["d2expit_dx2"](0.0) == 0.0


def test_importing_autodiff_ast_does_not_import_scipy():
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys, autodiff_ast; print('scipy' in sys.modules)"],
        capture_output=True, text=True)
    assert result.stdout == "False\n", result.stderr


TARGET = """\
import math
import numpy as np


def erf_exp(x):
    return math.erf(x) * np.exp(x)


def log_gamma(x):
    return 2 * math.lgamma(x)


def listed_log_gamma(x):
    parts = [x, 2.0]  # (array code: a list of numbers)
    return parts[1] * math.lgamma(parts[0])
"""


def test_without_scipy_math_code_works_and_lgamma_is_refused_at_its_line(
        tmp_path):
    (tmp_path / "target.py").write_text(TARGET)
    code = textwrap.dedent("""
        import sys
        sys.modules["scipy"] = None  # import scipy raises ImportError
        import autodiff_ast as ad
        import target

        gradient = ad.grad(target.erf_exp)
        print(sorted(name for name in ("math.erf", "scipy")
                     if name in ad.source(gradient)), gradient(0.5))
        for function in (target.log_gamma, target.listed_log_gamma):
            try:
                ad.grad(function)
            except ad.UnsupportedCodeError as error:
                print(error.lineno, error.msg)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names, value = result.stdout.splitlines()[0].split("] ")
    assert names == "['math.erf'" and float(value) == pytest.approx(
        exact(lambda t: mpmath.erf(t) * mpmath.exp(t), 0.5), rel=1e-14)
    assert result.stdout.splitlines()[1:] == [
        "10 cannot differentiate this expression: the derivative of "
        "math.lgamma is digamma, which only SciPy provides: install SciPy "
        "(pip install 'autodiff-ast[scipy]')",
        # array code refuses it when the derivative is made too
        "15 cannot differentiate this expression: the derivative of "
        "math.lgamma is digamma, which only SciPy provides: install SciPy "
        "(pip install 'autodiff-ast[scipy]')",
    ]
