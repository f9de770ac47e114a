"""SciPy's functions outside the rules table are refused alike: its ufuncs
(``scipy.special.loggamma``, which name no module of their own) as its
Python functions (``lambertw``, ``zeta``), with the problem, the fix and
the user's line; before, a ufunc was "not a primitive ... and has no
Python source".
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autodiff_ast as ad

sc = pytest.importorskip("scipy.special")


def _why(name: str) -> str:
    return (f"sc.{name} is not supported: it is a SciPy function outside "
            "autodiff_ast's rules table, and library code is never read "
            "and differentiated. Compute its result outside the function "
            "and pass it in (as an argument or a global), or write it with "
            "supported operations: arithmetic and the NumPy and math "
            "functions of the rules table")


def log_gamma(x):
    return sc.loggamma(x) * 2


def lambert(x):
    return np.real(sc.lambertw(x))


def summed_log_gamma(x):
    return np.sum(sc.loggamma(x))


@pytest.mark.parametrize("function,name,arg", [
    (log_gamma, "loggamma", 2.5),
    (lambert, "lambertw", 2.5),
    (summed_log_gamma, "loggamma", np.array([2.5, 3.0]))])
def test_refused_with_the_same_words_at_the_users_line(function, name,
                                                       arg):
    with pytest.raises(ad.UnsupportedCodeError) as caught:
        ad.grad(function)(arg)
    assert caught.value.msg == _why(name)
    line = inspect.getsourcelines(function)[1] + 1
    assert f"test_scipy_refusal_wording.py:{line}" in str(caught.value)
