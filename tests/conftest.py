"""Test-wide settings.

No persistent cache unless a test asks for one: the disk cache would let a
second generation come from the first, so a test of generation
(determinism, say) could not fail. Subprocesses inherit the setting
through the environment.

Every function a test generates is linted (generated_lint.py) when the
test ends: a finding is an error of the test that made the function.

Hypothesis profiles: "ci" (the default) is bounded and derandomized;
"quick" draws fewer programs (.ci/interpreters uses it on the Pythons
other than the default one); `--hypothesis-profile=thorough` draws thousands.

AUTODIFF_AST_SHARE=k/n runs the k-th of n shares of the tests (a test's
share is fixed by its id), and all of those about what differs between
interpreters (EVERY_INTERPRETER): .ci/interpreters gives each Python other
than the default one its share, so that every test runs on the default
interpreter and on one other, and those on all of them.
"""

import contextlib
import os
import zlib

import pytest
from generated_lint import lint
from hypothesis import HealthCheck, settings

os.environ["AUTODIFF_AST_CACHE"] = "0"

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "quick", max_examples=10, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=2000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


# -- every generated function reads well --------------------------------------
# The sources a test generates, scalar and array, recorded where the writers
# hand source to compile, are linted when the test ends (each source once
# per process, in the first test that made it). Tests run in any order and
# in several processes (pytest -n), so each test's own code is checked at
# its end rather than all of the session's in a last test.
#
# Except in a test where a rewrite ran out of its CPU-time limit
# (_limits.time_limit): what such a test generates depends on how far the
# rewrite got, which varies with the machine's load (a random program's
# third derivative was linted clean in one run and not in the next), so
# the lint, which reads the text, leaves it out.

_LINTED: set[str] = set()  # the sources linted in this process
_MADE: dict[str, None] = {}  # those the running test made, in order
_CUT_SHORT: list[bool] = [False]  # whether a time limit fired in it


def _recording(module, name):
    write = getattr(module, name)  # renamed: this file must follow

    def recorded(*args, **kwargs):
        source = write(*args, **kwargs)
        if source not in _LINTED:
            _MADE[source] = None
        return source

    setattr(module, name, recorded)


def _noting_time_limits(module):
    limit = module.time_limit

    @contextlib.contextmanager
    def noted(seconds):
        try:
            with limit(seconds):
                yield
        except module.TimeUp:
            _CUT_SHORT[0] = True
            raise

    module.time_limit = noted


@pytest.fixture
def made_by_this_test():
    """The sources the running test generated so far (and any made
    before it began that no test has linted yet), to be linted."""
    return _MADE


@pytest.fixture(autouse=True)
def _generated_code_reads_well(request):
    # (what was made before the test began, by a fixture of a module or
    # the session, or while the tests were collected, is linted with it)
    _CUT_SHORT[0] = False
    yield
    made = [s for s in _MADE if s not in _LINTED]
    _MADE.clear()
    # The lint reads text the same code writes on every interpreter: a
    # run without the slow tests (.ci/interpreters) leaves it to the
    # default interpreter's run, with them.
    if _CUT_SHORT[0] or "not slow" in (request.config.option.markexpr or ""):
        return
    _LINTED.update(made)
    findings = [f"{problem}\n{source}"
                for source in made for problem in lint(source)]
    if findings:
        pytest.fail(f"the code this test generated does not read well "
                    f"(generated_lint.py):\n"
                    + "\n".join(findings[:40]), pytrace=False)


def pytest_configure(config):
    import autodiff_ast._array_transforms
    import autodiff_ast._simplify
    import autodiff_ast._singular
    import autodiff_ast._tails

    config.addinivalue_line(
        "markers", "slow: numbers and generated text that do not depend "
        "on the interpreter, slow or many (CI runs them on its default "
        "interpreter only)")
    _recording(autodiff_ast._array_transforms, "generate_array_source")
    for module in (autodiff_ast._simplify, autodiff_ast._singular,
                   autodiff_ast._tails):
        _noting_time_limits(module)


# The slowest tests whose results do not depend on the interpreter (the
# same numbers and text on 3.10 to 3.13), and the rows' numeric checks:
# .ci/interpreters leaves them to the default interpreter's run.
SLOW = frozenset((
    "test_printed_derivatives_of_scalar_functions_read_back",
    "test_lstm_hessian_vector_product",
    "test_exp_sin_tanh_reads_well_to_order_8",
    "test_a_3000_term_sum_is_differentiated_without_sympys_diff",
    "test_derivatives_whose_simplification_once_took_minutes",
    "test_written_out_euler_steps_at_any_count",
    "test_every_transform_takes_code_past_the_bound",
    "test_a_pair_read_twice_per_step_is_differentiated",
    "test_every_step_of_the_table_is_generated_by_these_tests",
    "test_random_array_programs_match_central_differences",
    "test_random_programs_match_mpmath",
    "test_removable_singularity_where_a_linear_denominator_vanishes",
    "test_softplus_inverse_second_derivative_in_the_right_tail",
    "test_student_t_negative_log_likelihood",
    # each row of the rules tables against central differences: numbers
    # (NumPy's and SymPy's, not the interpreter's), 80 s in all
    "test_derivative_matches_central_differences",
    "test_gradient_matches_central_differences",
    "test_hessian_matches_central_differences_of_the_gradient",
    "test_gradients_and_hessians_match_central_differences",
    "test_grads_of_a_function_of_one_argument",
    "test_grads_of_a_function_of_two_arguments",
    "test_higher_orders_of_arrays_and_pytrees",
    "test_passes_on_smooth_functions"))


# The tests of what differs between interpreters: reading the user's
# source (inspect, tokenize, ast), Python's semantics, printing code (ast's
# unparse, astor), exact errors at lines, processes, hash seeds, the
# environment, the command line. .ci/interpreters runs them on every
# interpreter, and the others on the default one and one other
# (AUTODIFF_AST_SHARE).
EVERY_INTERPRETER = frozenset((
    "test_api.py", "test_argument_checks.py", "test_array_keyword_only.py",
    "test_chained_comparisons.py", "test_cli.py", "test_closure.py",
    "test_containers.py", "test_diskcache.py", "test_errors.py",
    "test_golden.py", "test_hostile.py", "test_keywords_unpacked.py",
    "test_lint.py", "test_local_functions.py", "test_lower.py",
    "test_objects.py", "test_portability.py", "test_print_quality.py",
    "test_printed_as_written.py", "test_printed_returns.py",
    "test_python_iteration.py", "test_source.py", "test_stale.py",
    "test_star_args.py", "test_sweep3_builtins.py",
    "test_sweep4_python_semantics.py", "test_sweep6_python.py",
    "test_sweep6_source.py", "test_tutorial.py", "test_wrap.py"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if getattr(item, "originalname", item.name) in SLOW:
            item.add_marker(pytest.mark.slow)
    share = os.environ.get("AUTODIFF_AST_SHARE")
    if share:
        part, parts = map(int, share.split("/"))
        ours = [item.path.name in EVERY_INTERPRETER
                or item.path.parent.name == "autodiff_ast"  # doctests
                or zlib.crc32(item.nodeid.encode()) % parts == part - 1
                for item in items]
        config.hook.pytest_deselected(
            items=[item for item, own in zip(items, ours) if not own])
        items[:] = [item for item, own in zip(items, ours) if own]
    # The slow first: with several processes (pytest -n), a slow test
    # begun last would run alone while the others wait at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
