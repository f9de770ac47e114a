"""autodiff_ast: symbolic, source-to-source differentiation of Python code.

``grad(f)`` reads f's source, derives its derivative by symbolic rules,
simplifies it with SymPy and returns it as a real, readable Python function.

>>> import autodiff_ast as ad
>>> f = lambda x: x**3 + 2*x**2 - 3*x + 1
>>> print(ad.source(ad.grad(f)).splitlines()[-1].strip())
return 3 * x ** 2 + 4 * x - 3
"""

from ._api import derivative, grad, source, value_and_grad
from ._api_jacobians import hessian, jacfwd, jacobian, jacrev, jvp, vjp
from ._errors import (ArgnumsError, AutodiffError, CacheWarning, InputError,
                      NoSourceError, OutputError, ShapeError,
                      UnsupportedCodeError)

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "derivative",
    "jacobian",
    "jacrev",
    "jacfwd",
    "hessian",
    "jvp",
    "vjp",
    "source",
    "AutodiffError",
    "UnsupportedCodeError",
    "NoSourceError",
    "ArgnumsError",
    "OutputError",
    "InputError",
    "ShapeError",
    "CacheWarning",
    "__version__",
]
