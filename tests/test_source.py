"""What autodiff_ast reads is what runs.

A function's file is read when it is differentiated, not when it was
imported; if the file was edited in between, the text no longer describes
the code that runs and its derivative would be wrong. Such functions are
refused; functions whose file is unchanged never are, whatever their shape
(closures, methods, decorators, ``from __future__ import annotations``),
and several lambdas on one line are told apart.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import textwrap

import numpy as np
import pytest

import autodiff_ast as ad
from autodiff_ast._source import get_source


def load(path, text=None):
    """Import the module at ``path`` (written first if ``text`` is given)
    as a new module object."""
    if text is not None:
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edit(path, old, new):
    """Replace ``old`` by ``new`` in the file, as an editor would (the
    modification time moves on, even within the same second)."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10 ** 9))


def edited_message(qualname, path, line):
    return (f"{qualname} was edited after it was imported: its file now "
            f"reads differently from the code that runs ({path}:{line}). "
            "Reload the module (importlib.reload) or restart Python, then "
            "differentiate it again.")


# -- edited after import -----------------------------------------------------

def test_a_function_edited_after_import_is_refused(tmp_path):
    path = tmp_path / "edited.py"
    module = load(path, """
        def f(x):
            return x ** 3
        """)
    edit(path, "x ** 3", "x ** 2")
    # Differentiating the new text would give 4.0 at 2.0, but f computes
    # x ** 3, whose derivative there is 12.0.
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(module.f)
    assert str(info.value) == edited_message("f", path, 1)
    assert module.f(2.0) == 8.0
    assert ad.grad(load(path).f)(2.0) == 4.0  # imported again: the new f


@pytest.mark.parametrize("body", [
    "return helper(x) * 2",
    # array code (a list), which read the helper only at the first call
    "parts = [x]\n            return helper(parts[0]) * 2"],
    ids=["scalar_code", "array_code"])
def test_an_edited_helper_is_refused_where_it_is_inlined(tmp_path, body):
    path = tmp_path / "helpers.py"
    module = load(path, f"""
        import math


        def helper(x):
            return math.sin(x)


        def f(x):
            {body}
        """)
    edit(path, "math.sin(x)", "math.cos(x)")
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(module.f)
    assert str(info.value) == edited_message("helper", path, 4)


def test_lines_moved_by_an_edit_above_are_refused(tmp_path):
    path = tmp_path / "moved.py"
    module = load(path, """
        def f(x):
            return x ** 3


        def g(x):
            return x ** 4
        """)
    edit(path, "def f(x):", "# a comment\ndef f(x):")
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(module.g)
    assert str(info.value) == edited_message("g", path, 5)


def test_an_edit_elsewhere_in_the_file_changes_nothing(tmp_path):
    path = tmp_path / "elsewhere.py"
    module = load(path, """
        def f(x):
            return x ** 3


        def g(x):
            return x ** 4
        """)
    edit(path, "x ** 4", "x ** 5")
    assert ad.grad(module.f)(2.0) == 12.0


def test_a_lambda_edited_on_its_line_is_refused(tmp_path):
    path = tmp_path / "swapped.py"
    module = load(path, """
        import numpy as np
        f, g = (lambda x: np.sin(x)), (lambda x: np.cos(x))
        """)
    edit(path, "(lambda x: np.sin(x)), (lambda x: np.cos(x))",
         "(lambda x: np.cos(x)), (lambda x: np.tan(x))")
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(module.f)
    assert str(info.value) == edited_message("<lambda>", path, 2)


# -- never refused when unchanged ----------------------------------------------

SHAPES = """
    {future}
    import functools
    import math

    import numpy as np

    SCALE = 2.0


    def plain(x: float) -> float:
        \"\"\"A docstring, and annotations.\"\"\"
        y: float = x ** 3
        return y


    def with_default(x, k=3.0):
        return k * x ** 2


    def make(k):
        def closure(x):
            return k * math.sin(x)
        return closure


    def make_twice(k):
        def middle(j):
            def closure(x):
                return k * j * x ** 2
            return closure
        return middle


    def named(fn):
        @functools.wraps(fn)
        def wrapper(x):
            return fn(x)
        return wrapper


    @named
    def decorated(x):
        return math.exp(x)


    class Model:
        FACTOR = 5.0

        def __init__(self, k):
            self.k = k

        def energy(self, x):
            return self.k * x ** 2 + __class__.FACTOR * x

        def uses_super(self, x):
            return x ** 3 if True else super().energy(x)

        @staticmethod
        def static(x):
            return x ** 4

        @classmethod
        def klass(cls, x):
            return cls.FACTOR * x

        square = staticmethod(lambda x: x * x)

        class Inner:
            def method(self, x):
                return SCALE * x ** 3


    if SCALE > 0:
        def in_a_block(x):
            return np.tanh(x)

    closure = make(3.0)
    deep_closure = make_twice(2.0)(5.0)
    model = Model(4.0)
    scaled = lambda x, a=SCALE: a * x ** 2
    """

# (function, argument, derivative there)
EXPECTED = {
    "plain": (lambda m: m.plain, 2.0, 12.0),
    "with_default": (lambda m: m.with_default, 2.0, 12.0),
    "closure": (lambda m: m.closure, 0.5, 3.0 * math.cos(0.5)),
    "deep_closure": (lambda m: m.deep_closure, 2.0, 40.0),
    "decorated": (lambda m: m.decorated, 1.0, math.e),
    "method": (lambda m: m.model.energy, 2.0, 21.0),
    "__class__ cell": (lambda m: m.model.uses_super, 2.0, 12.0),
    "staticmethod": (lambda m: m.Model.static, 2.0, 32.0),
    "classmethod": (lambda m: m.Model.klass, 2.0, 5.0),
    "lambda in a class": (lambda m: m.Model.square, 3.0, 6.0),
    "nested class": (lambda m: m.Model.Inner().method, 1.0, 6.0),
    "in a block": (lambda m: m.in_a_block, 0.5, 1 - math.tanh(0.5) ** 2),
    "lambda with a default": (lambda m: m.scaled, 3.0, 12.0),
}


@pytest.mark.parametrize("future", ["", "from __future__ import annotations"],
                         ids=["plain", "future-annotations"])
@pytest.mark.parametrize("shape", list(EXPECTED))
def test_unchanged_functions_of_every_shape_are_read(tmp_path, future, shape):
    module = load(tmp_path / "shapes.py", SHAPES.format(future=future))
    pick, argument, expected = EXPECTED[shape]
    assert ad.grad(pick(module))(argument) == pytest.approx(expected,
                                                            rel=1e-14)


def test_code_that_lowering_refuses_is_still_found(tmp_path):
    """The comparison with the code that runs covers every construct
    (generators, comprehensions, name mangling, try, async), so the fence
    can then say what is wrong."""
    module = load(tmp_path / "refused.py", """
        class Secret:
            def __init__(self):
                self.__k = 2.0

            def mangled(self, x):
                return self.__k * x


        def generator(x):
            yield x


        async def coroutine(x):
            return x


        def comprehension(x):
            return sum([x ** k for k in range(3)])


        def guarded(x):
            try:
                return 1 / x
            except ZeroDivisionError:
                return 0.0
        """)
    for function, line in [(module.Secret.mangled, 5),
                           (module.generator, 9), (module.coroutine, 13),
                           (module.comprehension, 17), (module.guarded, 21)]:
        assert get_source(function).node.lineno == line
    with pytest.raises(ad.UnsupportedCodeError, match="generators are not "
                       "supported"):
        ad.grad(module.generator)


def test_lambdas_inside_an_assert_of_a_test_file_are_read():
    # pytest rewrites the asserts of test files, moving the lambdas inside
    # them to the assert's position: the code is the same, and is read.
    assert ad.grad(lambda x: x ** 3)(2.0) == 12.0
    assert ad.grad(lambda x: np.sin(x))(0.0) + ad.grad(
        lambda x: np.cos(x))(0.0) == 1.0


# -- several lambdas on one line ----------------------------------------------

LAMBDAS = """
    import numpy as np

    f, g = (lambda x: np.sin(x)), (lambda x: np.cos(x))
    p, q = (lambda x: x * x), (lambda x: x * x)
    powers = [lambda x: x ** 3, lambda x: x ** 4]
    """


def test_two_lambdas_on_one_line_are_told_apart(tmp_path):
    module = load(tmp_path / "lambdas.py", LAMBDAS)
    df, dg = ad.grad(module.f), ad.grad(module.g)
    assert df(0.3) == math.cos(0.3)
    assert dg(0.3) == -math.sin(0.3)
    assert ad.source(df).startswith("def df_dx(x):")
    assert ad.source(dg).startswith("def dg_dx(x):")
    cube, fourth = module.powers
    assert ad.grad(cube)(2.0) == 12.0
    assert ad.grad(fourth)(2.0) == 32.0


def test_identical_lambdas_on_one_line(tmp_path):
    module = load(tmp_path / "twins.py", LAMBDAS)
    dp, dq = ad.grad(module.p), ad.grad(module.q)
    assert dp(3.0) == dq(3.0) == 6.0
    if sys.version_info >= (3, 11):
        # The columns of their instructions say which is which.
        assert ad.source(dp).startswith("def dp_dx(x):")
        assert ad.source(dq).startswith("def dq_dx(x):")
    else:
        # Python 3.10 compiles them into one code object: either is right,
        # and neither name is.
        assert module.p.__code__ is module.q.__code__
        assert ad.source(dp).startswith("def dlambda_dx(x):")


# -- library code is not read --------------------------------------------------

def test_an_installed_package_is_library_code(tmp_path):
    """Code in a site-packages folder (of any environment) is library code:
    a call to it is refused at the user's line, naming it, and it is not
    differentiated itself; the same code in a project folder is read."""
    helper = """
        def helper(x):
            return x ** 3
        """
    installed = tmp_path / "env" / "lib" / "site-packages" / "fakepkg.py"
    installed.parent.mkdir(parents=True)
    package = load(installed, helper)
    project = load(tmp_path / "project.py", helper)
    user = load(tmp_path / "user.py", """
        def cube_of_installed(x, package):
            return package.helper(x) * 2
        """)
    with pytest.raises(ad.UnsupportedCodeError) as info:
        ad.grad(lambda x: user.cube_of_installed(x, package))(2.0)
    assert info.value.msg == (
        "package.helper is not supported: it is a function of the installed "
        "package fakepkg outside autodiff_ast's rules table, and library "
        "code is never read and differentiated. Compute its result outside "
        "the function and pass it in (as an argument or a global), or write "
        "it with supported operations: arithmetic and the NumPy and math "
        "functions of the rules table")
    assert (info.value.filename, info.value.lineno) == (
        str(tmp_path / "user.py"), 2)
    with pytest.raises(ad.NoSourceError) as info:
        ad.grad(package.helper)
    assert str(info.value) == (
        "fakepkg.helper is a function of the installed package fakepkg, "
        "neither a primitive in autodiff_ast's rules table nor your own "
        "code, and library code is never read and differentiated. Write "
        "your own function with supported operations: arithmetic and the "
        "NumPy and math functions of the rules table; if the package is "
        "your own, install it in editable mode (pip install -e .) so that "
        "its source is yours.")
    assert ad.grad(project.helper)(2.0) == 12.0
