"""The `autodiff-ast` command line: run in this process as a fresh
`autodiff-ast` would run it, and as a real console script and
`python -m autodiff_ast` where a separate process is the point."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap
import traceback
import warnings

import numpy as np
import pytest

import autodiff_ast as ad
import cli_targets
from autodiff_ast import _cli

KIND_HELP = ("a kind is a dtype with an optional shape: float32[3], "
             "float32[N,3] (a size named N), float64 or float64[] (a "
             "scalar), or a JSON pytree of kinds like "
             "'{\"W\": \"float32[3]\", \"b\": \"float32\"}'")
TESTS = pathlib.Path(__file__).parent
TARGETS = TESTS / "cli_targets.py"
SCRIPT = pathlib.Path(sys.executable).parent / "autodiff-ast"


def run_process(*arguments: str, script: bool = True
                ) -> subprocess.CompletedProcess:
    """The command line run by the installed console script (or by
    ``python -m autodiff_ast``), from the repository's root."""
    command = ([str(SCRIPT)] if script
               else [sys.executable, "-m", "autodiff_ast"])
    return subprocess.run(command + list(arguments), capture_output=True,
                          text=True, cwd=TESTS.parent)


# A fresh interpreter's warning filters (CPython's defaults, no -W): pytest
# turns warnings into errors, where the command line prints them.
FRESH_WARNING_FILTERS = [("default", DeprecationWarning, "__main__"),
                         ("ignore", DeprecationWarning, ""),
                         ("ignore", PendingDeprecationWarning, ""),
                         ("ignore", ImportWarning, ""),
                         ("ignore", ResourceWarning, "")]
# A target file is loaded as a module of this name (a fresh one per run).
TARGET_MODULE_PREFIX = "_autodiff_ast_target_"


@contextlib.contextmanager
def _as_in_a_fresh_process(stderr: io.StringIO):
    """From the repository's root, with a fresh interpreter's warning
    filters (warnings printed to ``stderr``), a pipe's terminal width and
    NumPy's default error handling; the sys.path entries and the target
    modules a command adds are undone afterwards, so that one run leaves
    nothing for the next."""
    directory, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    columns = os.environ.get("COLUMNS")

    def show(message, category, filename, lineno, file=None, line=None):
        stderr.write(warnings.formatwarning(message, category, filename,
                                            lineno, line))

    try:
        os.chdir(TESTS.parent)
        # argparse wraps help at $COLUMNS, else at the terminal's width,
        # which a pipe does not have: 80.
        os.environ["COLUMNS"] = columns or "80"
        with warnings.catch_warnings(), np.errstate(
                divide="warn", over="warn", under="ignore", invalid="warn"):
            warnings.resetwarnings()
            for action, category, module in reversed(FRESH_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category,
                                        module=module)
            warnings.showwarning = show
            yield
    finally:
        os.chdir(directory)
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name.startswith(TARGET_MODULE_PREFIX):
                del sys.modules[name]


def run(*arguments: str) -> subprocess.CompletedProcess:
    """The command line run in this process as the console script runs it
    (``sys.exit(main())``): its exit status, and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with _as_in_a_fresh_process(stderr), contextlib.redirect_stdout(
            stdout), contextlib.redirect_stderr(stderr):
        try:
            sys.exit(_cli.main(list(arguments)))
        except SystemExit as stop:
            status = stop.code
        except Exception:  # what the interpreter does with an uncaught one
            traceback.print_exc()
            status = 1
    if status is None:
        status = 0
    elif not isinstance(status, int):  # as sys.exit("message") does
        stderr.write(f"{status}\n")
        status = 1
    return subprocess.CompletedProcess(["autodiff-ast", *arguments], status,
                                       stdout.getvalue(), stderr.getvalue())


def target(name: str) -> str:
    return f"{TARGETS.relative_to(TESTS.parent)}:{name}"


def test_console_script_is_installed():
    assert SCRIPT.exists(), "pip install the package to get autodiff-ast"


@pytest.mark.parametrize("script", [True, False], ids=["script", "module"])
def test_show_prints_each_order_with_a_heading(script):
    # A real process: the installed console script, and python -m.
    result = run_process("show", target("wave"), "--wrt", "y", "--order",
                         "2", script=script)
    assert result.returncode == 0, result.stderr
    first = ad.grad(cli_targets.wave, argnums=1)
    second = ad.grad(first, argnums=1)
    assert result.stdout == (
        "# Derivative of wave with respect to y.\n" + ad.source(first)
        + "\n\n# Second derivative of wave with respect to y.\n"
        + ad.source(second))
    assert "\033[" not in result.stdout  # plain when piped


def test_show_a_module_function():
    result = run("show", "numpy:tanh")
    assert result.returncode == 0
    assert result.stdout.endswith("    t0 = np.exp(-2 * abs(x))\n"
                                  "    return 4 * t0 / (t0 + 1) ** 2\n")


def test_highlighting_marks_keywords_and_numbers():
    from autodiff_ast._cli import highlight
    coloured = highlight("def f(x):\n    return 2 * x\n")
    assert "\033[1;35mdef\033[0m" in coloured
    assert "\033[36m2\033[0m" in coloured


def test_check_passes_and_prints_a_table():
    result = run("check", target("wave"), "--at", "0.5,2", "--order", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("d^n/dx^n of tests/cli_targets.py:wave at "
                               "(0.5, 2.0)")
    assert [line.split()[0] for line in lines[2:]] == ["1", "2", "3"]
    assert all(line.endswith("OK") for line in lines[2:])


def test_check_fails_with_status_1_where_central_differences_disagree():
    # abs'(0) is 1 by convention; central differences say 0. A real
    # process: a status other than 0 reaches the shell.
    result = run_process("check", target("kink"), "--at", "0")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].endswith("FAIL")


def test_export_runs_without_autodiff_ast_or_sympy(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("wave"), "numpy:tanh", "--order", "2",
                 "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert text.startswith('"""Derivatives generated by autodiff_ast ')
    assert f"#   autodiff-ast export {target('wave')} numpy:tanh" in text
    assert "# from tests/cli_targets.py (sha256 " in text
    assert "import math\nimport numpy as np\n" in text
    check = textwrap.dedent(f"""
        import importlib.abc, importlib.util, sys

        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("autodiff_ast", "sympy"):
                    raise ImportError(f"{{name}} is hidden")

        sys.meta_path.insert(0, Hide())
        spec = importlib.util.spec_from_file_location("grads", {str(output)!r})
        grads = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(grads)
        assert "sympy" not in sys.modules and "autodiff_ast" not in sys.modules
        print(grads.dwave_dx(0.5, 2.0), grads.d2wave_dx2(0.5, 2.0),
              grads.dtanh_dx(0.0), grads.d2tanh_dx2(0.0))
    """)
    imported = subprocess.run([sys.executable, "-c", check],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    values = [float(v) for v in imported.stdout.split()]
    first = ad.grad(cli_targets.wave)
    assert values == [first(0.5, 2.0), ad.grad(first)(0.5, 2.0), 1.0, 0.0]


@pytest.mark.parametrize("arguments, message", [
    (("show", "missing.py:f"), "no such file: missing.py"),
    (("show", "tests/cli_targets.py:nothing"),
     "tests/cli_targets.py has no function 'nothing'"),
    (("show", "no_such_module:f"),
     "cannot import module no_such_module: No module named "
     "'no_such_module'"),
    (("show", "tests/cli_targets.py"),
     "target 'tests/cli_targets.py' must look like path/to/file.py:function "
     "or package.module:function"),
    (("check", "tests/cli_targets.py:wave", "--at", "1"),
     "--at gives 1 value(s) but the function takes 2"),
    (("show", "tests/cli_targets.py:wave", "--wrt", "z"),
     "--wrt z: the function's arguments are x, y"),
    (("check", "tests/cli_targets.py:total", "--at", "1"),
     "total uses array operations or containers: its derivative is "
     "generated for the shapes and dtypes of its inputs, which this command "
     "does not take. Use show or export with --arg, or in Python: "
     "print(ad.source(ad.grad(f), *example_args))"),
    (("show", "tests/cli_targets.py:total"),
     "total uses array operations or containers: its derivative is "
     "generated for the dtype and shape of each argument. Add --arg W=KIND, "
     "for example --arg W=float64[3]; " + KIND_HELP),
    (("export", "tests/cli_targets.py:logistic", "--arg", "W=float32[3]",
      "-o", "unwritten.py"),
     "logistic uses array operations or containers: its derivative is "
     "generated for the dtype and shape of each argument. Add --arg b=KIND, "
     "for example --arg b=float64[3]; " + KIND_HELP),
    (("show", "tests/cli_targets.py:total", "--arg", "Z=float64"),
     "--arg Z names no argument of total (W)"),
    (("show", "tests/cli_targets.py:total", "--arg", "W=float64",
      "--arg", "W=float32"), "--arg W is given twice"),
    (("show", "tests/cli_targets.py:total", "--arg", "W"),
     "--arg W must look like NAME=KIND, like --arg W=float32[3]; "
     + KIND_HELP),
    (("show", "tests/cli_targets.py:total", "--arg", "W=flaot32[3]"),
     "--arg W=flaot32[3]: unknown dtype 'flaot32'; the dtypes are float64, "
     "float32, float16, int64, int32, int16, int8, uint64, uint32, uint16, "
     "uint8, bool"),
    (("show", "tests/cli_targets.py:total", "--arg", "W=float32[3,-1]"),
     "--arg W=float32[3,-1]: a size must be a number or a name, like "
     "float32[N,3]; got '-1'"),
    (("show", "tests/cli_targets.py:total", "--arg", "W=float32(3)"),
     "--arg W=float32(3): " + KIND_HELP),
    (("show", "tests/cli_targets.py:logistic_tree", "--arg",
      'params={"W": 3}'),
     "--arg params: 3 in its JSON is not a kind; " + KIND_HELP),
    (("show", "tests/cli_targets.py:logistic_tree", "--arg",
      'params={"W": '),
     '--arg params: {"W":  is not JSON (Expecting value); ' + KIND_HELP),
    (("export", "tests/cli_targets.py:tabulated", "--arg", "w=float64[2]",
      "-o", "unwritten.py"),
     "grad_tabulated reads the global array TABLE (float64[1001, 2], 2002 "
     "elements); an exported module holds arrays of at most 1000 elements "
     "as literals, and this one is data: make TABLE an argument of the "
     "function and pass it when you call the derivative"),
    (("export", "tests/cli_targets.py:negative_cholesky", "--arg",
      "A=float64[2,2]", "-o", "unwritten.py"),
     "cannot export grad_negative_cholesky: export runs it once at example "
     "arguments of the kinds given, to see the dtypes of its results, and "
     "there it raised LinAlgError: Matrix is not positive definite"),
    (("show", "tests/cli_targets.py:logistic", "--arg", "W=float32[3]",
      "--arg", "b=float32", "--order", "2"),
     "--order 2 differentiates the gradient of logistic again, which needs "
     "a scalar argument, and W is float32[3]: for its second derivatives "
     "pass --hessian --wrt W instead of --order 2"),
    (("export", "tests/cli_targets.py:logistic_tree", "--arg",
      'params={"W": "float32[3]", "b": "float32"}', "--order", "3",
      "-o", "unwritten.py"),
     "--order 3 differentiates the gradient of logistic_tree again, which "
     "needs a scalar argument, and params is {W: float32[3], b: "
     "float32[]}: for its second derivatives pass --hessian --wrt params "
     "instead of --order 3"),
    (("show", "tests/cli_targets.py:wave", "--hessian", "--jacobian",
      "--order", "2"),
     "--order counts derivatives of the gradient, which --jacobian "
     "--hessian leaves out: add --grad to have both, or leave out --order"),
    (("show", "tests/cli_targets.py:wave", "--order", "0"),
     "--order must be at least 1"),
    (("check", "tests/cli_targets.py:wave", "--at", "1,2", "--order", "0"),
     "--order must be at least 1"),
    (("show", "tests/cli_targets.py:wave", "--jvp", "--wrt", "y"),
     "--jvp takes a tangent for every argument, as ad.jvp does, so it has "
     "no --wrt: leave --wrt out, or ask for --jvp in a command of its own"),
    (("export", "tests/cli_targets.py:wave", "--jvp", "--hessian",
      "--argnums", "0,1", "-o", "unwritten.py"),
     "--jvp takes a tangent for every argument, as ad.jvp does, so it has "
     "no --argnums: leave --argnums out, or ask for --jvp in a command of "
     "its own"),
    (("show", "tests/cli_targets.py:logistic", "--jvp", "--arg",
      "b=float32"),
     "logistic uses array operations or containers: its derivative is "
     "generated for the dtype and shape of each argument. Add --arg W=KIND, "
     "for example --arg W=float64[3]; " + KIND_HELP),
])
def test_errors_are_one_line_with_status_2(arguments, message):
    result = run(*arguments)
    assert result.returncode == 2
    assert result.stderr == f"autodiff-ast: error: {message}\n"
    assert not (TESTS.parent / "unwritten.py").exists()


def test_unsupported_code_names_the_file_and_line():
    result = run("show", target("guarded"))
    assert result.returncode == 2
    line = next(n for n, text in enumerate(TARGETS.read_text().splitlines(), 1)
                if "# refused: try" in text)
    assert result.stderr.startswith("autodiff-ast: error: try/except is "
                                    "not supported")
    assert result.stderr.endswith(f"({TARGETS}:{line})\n")
    assert "Traceback" not in result.stderr
    assert "Traceback" in run("show", target("guarded"), "--traceback").stderr


@pytest.mark.parametrize("command", ["show", "check", "export"])
def test_help_shows_a_real_example(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"autodiff-ast {command} examples/derivatives.py:" in result.stdout


def test_export_writes_the_globals_a_derivative_reads_by_name(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("damped"), "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "import math\n\n\nGAIN = 1.5\n\n\ndef ddamped_dx(x):" in text
    assert text.endswith("    return GAIN * math.cos(x)\n")
    namespace: dict = {}
    exec(compile(text, str(output), "exec"), namespace)
    assert namespace["ddamped_dx"](0.0) == 1.5


# -- array code: argument kinds -----------------------------------------------

# Imports an exported module with autodiff_ast and SymPy hidden, calls
# (function name, arguments) pairs read from stdin, pickles the results.
CALL_EXPORTED = textwrap.dedent("""
    import importlib.abc, importlib.util, pickle, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("autodiff_ast", "sympy"):
                raise ImportError(f"{name} is hidden")

    sys.meta_path.insert(0, Hide())
    spec = importlib.util.spec_from_file_location("grads", sys.argv[1])
    grads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grads)
    assert "sympy" not in sys.modules and "autodiff_ast" not in sys.modules
    calls = pickle.load(sys.stdin.buffer)
    pickle.dump([getattr(grads, name)(*args) for name, args in calls],
                sys.stdout.buffer)
""")


def call_exported(module: pathlib.Path, calls: list) -> list:
    """Results of calls into ``module``, run by a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", CALL_EXPORTED,
                             str(module)], input=pickle.dumps(calls),
                            capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    return pickle.loads(result.stdout)


def assert_identical(got, expected):
    """Same structure (dict key order too), types, dtypes and bits."""
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            assert_identical(got[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_identical(g, e)
    else:
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        assert np.array_equal(got, expected), (got, expected)


W32 = np.array([-0.36838785, -2.275689, 0.011447566], dtype=np.float32)
B32 = np.float32(0.8535516)


def test_show_array_code_for_the_kinds_given():
    result = run("show", target("logistic"), "--arg", "W=float32[3]",
                 "--arg", "b=float32")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # Any float32[3] and float32 scalar give the same code.
    assert result.stdout == ("# Gradient of logistic with respect to W.\n"
                             + ad.source(ad.grad(cli_targets.logistic),
                                         W32, B32))


def test_a_scalar_kind_may_be_written_with_empty_brackets():
    plain = run("show", target("logistic"), "--arg", "W=float32[3]",
                "--arg", "b=float32")
    brackets = run("show", target("logistic"), "--arg", "W=float32[ 3 ]",
                   "--arg", "b=float32[]")
    assert brackets.returncode == 0, brackets.stderr
    assert brackets.stdout == plain.stdout
    assert "b: float32[]." in plain.stdout


def test_export_array_code_returns_what_ad_grad_returns(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("logistic"), "--arg", "W=float32[3]",
                 "--arg", "b=float32", "--argnums", "0,1",
                 "--value-and-grad", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == (
        f"wrote 2 function(s) to {output}\n", "")
    text = output.read_text()
    # The global arrays the code reads, exactly, as NumPy literals.
    assert ("import numpy as np\n\n\n"
            "INPUTS = np.array([[0.52, 1.12, 0.77],\n"
            "                   [0.88, -1.08, 0.15],\n"
            "                   [0.52, 0.06, -1.3],\n"
            "                   [0.74, -2.49, 1.39]], dtype=np.float32)\n"
            "TARGETS = np.array([True, True, False, True], "
            "dtype=np.bool_)\n\n\ndef value_and_grad_logistic(W, b):\n"
            ) in text
    # The generated code, returning (value, (grad_W, grad_b)) as JAX does
    # (and as ad.source prints it).
    both = ad.value_and_grad(cli_targets.logistic, (0, 1))
    assert ad.source(both, W32, B32).endswith(
        "    return value, (grad_W, grad_b)\n")
    assert ad.source(both, W32, B32) in text
    assert ad.source(ad.grad(cli_targets.logistic, (0, 1)), W32, B32) in text
    rng = np.random.default_rng(7)
    W, b = rng.standard_normal(3).astype(np.float32), np.float32(-0.4)
    got = call_exported(output, [("value_and_grad_logistic", (W, b)),
                                 ("grad_logistic", (W, b))])
    assert_identical(got, [both(W, b),
                           ad.grad(cli_targets.logistic, (0, 1))(W, b)])


def test_export_pytrees_and_dtypes_as_ad_grad_gives_them(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("logistic_tree"), target("scaled"),
                 "--arg", 'params={"W": "float32[3]", "b": "float32"}',
                 "--arg", "w=float32[3]", "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "SCALES = np.array([0.5, 2.0, -1.5], dtype=np.float64)\n" in text
    # SCALES is float64, so NumPy computes the gradient in float64; a
    # float32 argument's gradient is float32.
    w = np.array([0.1, -2.0, 3.5], dtype=np.float32)
    assert ad.source(ad.grad(cli_targets.scaled), w).replace(
        "    return SCALES * np.cos(w)\n",
        "    return (SCALES * np.cos(w)).astype(np.float32)\n") in text
    # A dict argument's gradient is a dict, in its key order.
    assert "    return {'W': grad_params_W, 'b': grad_params_b}\n" in text
    params = {"W": W32, "b": B32}
    got = call_exported(output, [("grad_logistic_tree", (params,)),
                                 ("grad_scaled", (w,))])
    assert_identical(got, [ad.grad(cli_targets.logistic_tree)(params),
                           ad.grad(cli_targets.scaled)(w)])
    assert got[1].dtype == np.float32


def _code(text: str) -> str:
    """A generated function without its docstring."""
    import ast
    (function,) = ast.parse(text).body
    return ast.dump(ast.Module(function.body[1:], []))


def test_a_size_named_N_is_generated_at_5_with_a_note_if_it_is_held(
        tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("least_squares"), "--arg", "w=float64[3]",
                 "--arg", "X=float64[N,3]", "--arg", "y=float64[N]",
                 "-o", str(output))
    assert result.returncode == 0, result.stderr
    rng = np.random.default_rng(3)
    w, X, y = (rng.standard_normal(3), rng.standard_normal((5, 3)),
               rng.standard_normal(5))
    df = ad.grad(cli_targets.least_squares)
    assert ad.source(df, w, X, y) in output.read_text()
    (got,) = call_exported(output, [("grad_least_squares", (w, X, y))])
    assert_identical(got, df(w, X, y))
    np.testing.assert_allclose(got, 2 * X.T @ (X @ w - y) / 5, rtol=1e-13)
    # Whether the code holds N depends on the code generator (which may
    # read sizes at run time); the note must say so exactly when it does.
    held = _code(ad.source(df, w, X, y)) != _code(ad.source(
        df, w, np.ones((6, 3)), np.ones(6)))
    note = ("note: grad_least_squares is generated for the example size "
            "N=5, and its code holds that size (it differs at N=6): call it "
            "only with arguments of that size, or write the size you need, "
            "like --arg X=float64[1000,3]")
    assert result.stderr == (f"autodiff-ast: {note}\n" if held else "")
    assert ("# note: grad_least_squares is generated for the example size "
            "N=5," in output.read_text()) == held


def test_example_sizes_skip_sizes_written_as_numbers():
    from autodiff_ast._cli import example_sizes, parse_kinds
    kinds = parse_kinds(["X=float32[N,5]", "y=float32[N]",
                         'p={"a": "int64[M]", "b": [null, "bool[6,K]"]}'])
    assert kinds["X"].shape == ("N", 5)
    assert example_sizes(list(kinds.values())) == {"N": 7, "M": 8, "K": 9}
    assert example_sizes(list(kinds.values()), after=9) == {
        "N": 10, "M": 11, "K": 12}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64,
                                   np.int64, np.bool_])
def test_a_global_array_is_written_so_that_it_reads_back_exactly(dtype):
    from autodiff_ast._cli import _assignment
    rng = np.random.default_rng(0)
    values = rng.standard_normal(200) * 10.0 ** rng.integers(-4, 4, 200)
    values[:3] = [np.nan, np.inf, -np.inf] if dtype in (
        np.float16, np.float32, np.float64) else [0, 1, -1]
    array = values.astype(dtype).reshape(10, 20)
    namespace: dict = {"np": np}
    exec(_assignment("TABLE", array), namespace)
    assert namespace["TABLE"].dtype == array.dtype
    assert namespace["TABLE"].tobytes() == array.tobytes()
    assert all(len(line) <= 79
               for line in _assignment("TABLE", array).splitlines())


@pytest.mark.parametrize("command", ["show", "export"])
def test_the_help_example_for_array_code_runs(command, tmp_path):
    lines = [line.split()[1:] for line in run(command, "--help").stdout
             .splitlines() if line.startswith("  autodiff-ast ")
             and " --arg " in line]
    assert [line.count("--hessian") for line in lines] == [0, 1]
    for arguments in lines:
        if "-o" in arguments:
            arguments[arguments.index("-o") + 1] = str(tmp_path / "grads.py")
        result = run(*arguments)
        assert result.returncode == 0, result.stderr
        text = (result.stdout if command == "show"
                else (tmp_path / "grads.py").read_text())
        hessian = "--hessian" in arguments
        assert ("def hessian_loss(W, b):" in text) == hessian
        assert ("def grad_loss(W, b):" in text) == (not hessian)


def test_export_runs_code_that_needs_an_invertible_matrix(tmp_path):
    # Export runs the generated code once at example values (to see the
    # dtypes NumPy gives); a matrix of equal entries is singular there.
    output = tmp_path / "grads.py"
    result = run("export", target("inverse_sum"), "--arg", "A=float32[3,3]",
                 "-o", str(output))
    assert result.returncode == 0, result.stderr
    A = np.array([[2.0, 0.5, 0.0], [0.25, 3.0, 1.0], [0.0, -1.0, 4.0]],
                 dtype=np.float32)
    (got,) = call_exported(output, [("grad_inverse_sum", (A,))])
    assert_identical(got, ad.grad(cli_targets.inverse_sum)(A))
    inverse = np.linalg.inv(A.astype(np.float64))
    np.testing.assert_allclose(got, -inverse.T @ np.ones((3, 3)) @ inverse.T,
                               rtol=1e-5)


# -- other transforms: --jacobian, --hessian, --jvp ---------------------------

EXAMPLES = TESTS.parent / "examples"


def test_show_the_hessian_of_the_readme_logistic_loss():
    result = run("show", "examples/logistic_regression.py:loss", "--arg",
                 "W=float32[3]", "--arg", "b=float32", "--hessian")
    assert (result.returncode, result.stderr) == (0, "")
    line = (EXAMPLES / "logistic_regression.py").read_text().splitlines(
        ).index("def loss(W, b):") + 1
    # inputs.T @ diag(p * (1 - p)) @ inputs, with p * (1 - p) written from
    # the tanh the loss's sigmoid is made of.
    assert result.stdout == textwrap.dedent(f'''\
        # Hessian of loss with respect to W.
        def hessian_loss(W, b):
            """Hessian of loss with respect to W.

            loss is defined at examples/logistic_regression.py:{line}.
            Generated by autodiff_ast for W: float32[N], b: float32[].
            """
            partial = 0.25 * (1 - np.tanh(0.5 * (b + np.dot(inputs, W))) ** 2)
            return np.dot(inputs.T, inputs * partial[:, None])
        ''')


def test_show_each_transform_asked_for_in_order_of_the_options_help():
    result = run("show", target("wave"), "--jvp", "--hessian", "--grad",
                 "--jacobian")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "\n\n".join([
        "# Derivative of wave with respect to x.\n"
        + ad.source(ad.grad(cli_targets.wave)),
        "# Jacobian of wave with respect to x.\n"
        + ad.source(ad.jacobian(cli_targets.wave)),
        "# Hessian of wave with respect to x.\n"
        + ad.source(ad.hessian(cli_targets.wave)),
        textwrap.dedent('''\
        # Value of wave and its derivative along (x_dot, y_dot).
        def jvp_wave(x, y, x_dot, y_dot):
            """Value of wave and its derivative along (x_dot, y_dot).

            wave is defined at tests/cli_targets.py:8.
            Generated by autodiff_ast.
            """
            sin_x = math.sin(x)
            y_sq = y ** 2
            value = sin_x * y_sq
            tangent = 2 * sin_x * y * y_dot + y_sq * x_dot * math.cos(x)
            return value, tangent
        ''')])


def test_order_2_of_array_code_by_a_scalar_argument():
    result = run("show", target("logistic"), "--arg", "W=float32[3]",
                 "--arg", "b=float32", "--wrt", "b", "--order", "2")
    assert result.returncode == 0, result.stderr
    second = ad.grad(ad.grad(cli_targets.logistic, 1), 1)
    assert result.stdout.endswith(
        "# Second derivative of logistic with respect to b.\n"
        + ad.source(second, W32, B32))


def _body(text: str, name: str) -> list[str]:
    """The lines of function ``name`` in ``text`` up to its return."""
    lines = text[text.index(f"def {name}("):].splitlines()
    return lines[:next(i for i, line in enumerate(lines)
                       if line.startswith("    return "))]


def test_export_hessians_and_jacobians_return_what_the_library_does(
        tmp_path):
    output, jacobians = tmp_path / "grads.py", tmp_path / "jacobians.py"
    result = run("export", target("logistic"), target("wave"), "--arg",
                 "W=float32[3]", "--arg", "b=float32", "--hessian",
                 "--jacobian", "--argnums", "0,1", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote 4 function(s) to {output}\n"
    # A function returning a tuple has a Jacobian (and no Hessian).
    result = run("export", target("predictions"), "--arg", "W=float32[3]",
                 "--arg", "b=float32", "--jacobian", "--argnums", "0,1",
                 "-o", str(jacobians))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "import math\nimport numpy as np\n" in text
    f, g = cli_targets.logistic, cli_targets.predictions
    handles = {"hessian_logistic": ad.hessian(f, (0, 1)),
               "jacobian_logistic": ad.jacobian(f, (0, 1))}
    # The library's code, up to the return statements, which rebuild the
    # handle's tuples of tuples from the flat tuple the code returns.
    for name, handle in handles.items():
        assert _body(text, name) == _body(ad.source(handle, W32, B32), name)
    assert _body(jacobians.read_text(), "jacobian_predictions") == _body(
        ad.source(ad.jacobian(g, (0, 1)), W32, B32), "jacobian_predictions")
    assert ("    return (hessian_0_0, hessian_0_1), (hessian_1_0, "
            "hessian_1_1)\n") in text
    assert ad.source(ad.hessian(cli_targets.wave, (0, 1))) in text
    rng = np.random.default_rng(11)
    W, b = rng.standard_normal(3).astype(np.float32), np.float32(0.3)
    x, y = 0.5, 2.0
    got = call_exported(output, [("hessian_logistic", (W, b)),
                                 ("jacobian_logistic", (W, b)),
                                 ("hessian_wave", (x, y)),
                                 ("jacobian_wave", (x, y))])
    got += call_exported(jacobians, [("jacobian_predictions", (W, b))])
    assert_identical(got, [
        ad.hessian(f, (0, 1))(W, b), ad.jacobian(f, (0, 1))(W, b),
        ad.hessian(cli_targets.wave, (0, 1))(x, y),
        ad.jacobian(cli_targets.wave, (0, 1))(x, y),
        ad.jacobian(g, (0, 1))(W, b)])
    # and they are the derivatives: the logistic loss's Hessian by W is
    # inputs.T @ diag(p * (1 - p)) @ inputs, its Jacobian by b is
    # sum(p - targets); d/db of the predictions is p * (1 - p), d/dW of
    # sum(W ** 2) is 2 * W.
    inputs = cli_targets.INPUTS.astype(np.float64)
    p = 1 / (1 + np.exp(-(inputs @ W + b)))
    np.testing.assert_allclose(got[0][0][0],
                               inputs.T @ (inputs * (p * (1 - p))[:, None]),
                               rtol=2e-6)
    np.testing.assert_allclose(got[1][1], np.sum(p - cli_targets.TARGETS),
                               rtol=2e-6)
    assert got[2] == ((-np.sin(x) * y ** 2, 2 * y * np.cos(x)),
                      (2 * y * np.cos(x), 2 * np.sin(x)))
    np.testing.assert_allclose(got[4][0][1], p * (1 - p), rtol=2e-6)
    np.testing.assert_allclose(got[4][1][0], 2 * W, rtol=2e-6)


def test_export_jvps_take_primals_then_tangents_as_ad_jvp(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("logistic_tree"), target("wave"), "--arg",
                 'params={"W": "float32[3]", "b": "float32"}', "--jvp",
                 "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert "def jvp_logistic_tree(params, params_dot):\n" in text
    assert "def jvp_wave(x, y, x_dot, y_dot):\n" in text
    rng = np.random.default_rng(5)
    params = {"W": rng.standard_normal(3).astype(np.float32),
              "b": np.float32(-0.2)}
    tangent = {"W": rng.standard_normal(3).astype(np.float32),
               "b": np.float32(0.7)}
    got = call_exported(output, [("jvp_logistic_tree", (params, tangent)),
                                 ("jvp_wave", (0.5, 2.0, 1.0, -3.0))])
    expected = [ad.jvp(cli_targets.logistic_tree, (params,), (tangent,)),
                ad.jvp(cli_targets.wave, (0.5, 2.0), (1.0, -3.0))]
    assert_identical(got, expected)
    (value, along), _ = got
    # ad.jvp gives the value in the arguments' dtype (float32), where the
    # function computes it in float64 (from its bool TARGETS)
    np.testing.assert_allclose(value, cli_targets.logistic_tree(params),
                               rtol=1e-6)
    gradient = ad.grad(cli_targets.logistic_tree)(params)
    np.testing.assert_allclose(
        along, gradient["W"] @ tangent["W"] + gradient["b"] * tangent["b"],
        rtol=1e-5)


def test_export_a_jvp_and_a_hessian_for_a_size_named_N(tmp_path):
    output = tmp_path / "grads.py"
    result = run("export", target("least_squares"), "--arg", "w=float64[3]",
                 "--arg", "X=float64[N,3]", "--arg", "y=float64[N]",
                 "--jvp", "--hessian", "-o", str(output))
    assert result.returncode == 0, result.stderr
    f = cli_targets.least_squares
    hessian = ad.hessian(f)
    rng = np.random.default_rng(2)

    def point(n: int) -> tuple:
        return (rng.standard_normal(3), rng.standard_normal((n, 3)),
                rng.standard_normal(n))

    at5, at6 = point(5), point(6)
    # A note for each function whose code holds N (read from the library,
    # which may or may not write sizes read at run time).
    held = [name for name, source in [
        ("hessian_least_squares", lambda p: ad.source(hessian, *p)),
        ("jvp_least_squares", lambda p: _jvp_source(f, p))]
        if _code(source(at5)) != _code(source(at6))]
    assert result.stderr == "".join(
        f"autodiff-ast: note: {name} is generated for the example size N=5, "
        f"and its code holds that size (it differs at N=6): call it only "
        f"with arguments of that size, or write the size you need, like "
        f"--arg X=float64[1000,3]\n" for name in held)
    sizes = [5] + [7] * (not held)
    calls, expected = [], []
    for n in sizes:
        (w, X, y), tangents = point(n), point(n)
        calls += [("jvp_least_squares", (w, X, y) + tangents),
                  ("hessian_least_squares", (w, X, y))]
        expected += [ad.jvp(f, (w, X, y), tangents), hessian(w, X, y)]
        np.testing.assert_allclose(expected[-1], 2 * X.T @ X / n,
                                   rtol=1e-13)
    assert_identical(call_exported(output, calls), expected)


def _jvp_source(function, primals: tuple) -> str:
    from autodiff_ast._api import _cached
    return ad.source(_cached(function, 0, False, "jvp"), *primals, *primals)
