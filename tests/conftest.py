"""Test-wide settings.

No persistent cache unless a test asks for one: the disk cache would let a
second generation come from the first, so a test of generation
(determinism, say) could not fail. Subprocesses inherit the setting
through the environment.

Every function the session generates is recorded (``generated``), and
tests marked ``last`` run after all others: test_lint.py lints them all.

Hypothesis profiles: "ci" (the default) is bounded and derandomized;
"quick" draws fewer programs (.ci/run uses it on the Pythons other than
the default one); `--hypothesis-profile=thorough` draws thousands.

AUTODIFF_AST_SHARE=k/n runs the k-th of n shares of the tests (a test's
share is fixed by its id), and all of those about what differs between
interpreters (EVERY_INTERPRETER): .ci/run gives each Python other than the
default one its share, so that every test runs on the default interpreter
and on one other, and those on all of them.
"""

import contextlib
import os
import zlib

import pytest
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


# -- every generated function, for test_lint.py ------------------------------
# The sources the session generates, scalar and array, each with the first
# test that made it; test_lint.py's tests marked ``last`` run after all
# others and lint them. Recorded where the writers hand source to compile.
#
# Except in a test where a rewrite ran out of its CPU-time limit
# (_limits.time_limit): what such a test generates depends on how far the
# rewrite got, which varies with the machine's load (a random program's
# third derivative was linted clean in one run and not in the next), so
# the lint, which reads the text, leaves it out.

GENERATED: dict[str, dict[str, str]] = {"scalar": {}, "array": {}}
CUT_SHORT: set[str] = set()  # the tests in which a time limit fired


def _current_test():
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]


def _recording(module, name, kind):
    write = getattr(module, name, None)
    if write is None:  # a writer renamed: test_lint.py says so
        GENERATED[kind][f"{module.__name__}.{name} was not found"] = "?"
        return

    def recorded(*args, **kwargs):
        source = write(*args, **kwargs)
        if _current_test() not in CUT_SHORT:
            GENERATED[kind].setdefault(source, _current_test())
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
            CUT_SHORT.add(_current_test())
            raise

    module.time_limit = noted


def pytest_configure(config):
    import autodiff_ast._api
    import autodiff_ast._array_transforms
    import autodiff_ast._simplify
    import autodiff_ast._singular
    import autodiff_ast._tails

    config.addinivalue_line(
        "markers", "last: run after every other test (it reads what they "
        "generated)")
    config.addinivalue_line(
        "markers", "slow: numbers and generated text that do not depend "
        "on the interpreter, slow or many (CI runs them on its default "
        "interpreter only)")
    _recording(autodiff_ast._api, "generate_source", "scalar")
    _recording(autodiff_ast._array_transforms, "generate_array_source",
               "array")
    for module in (autodiff_ast._simplify, autodiff_ast._singular,
                   autodiff_ast._tails):
        _noting_time_limits(module)


# The slowest tests whose results do not depend on the interpreter (the
# same numbers and text on 3.10 to 3.13), and the rows' numeric checks:
# .ci/run leaves them to the default interpreter's run.
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
    # the lint reads text the same code writes on every interpreter (the
    # golden tests, which run everywhere, pin the text itself)
    "test_every_array_function_the_suite_generated_reads_well",
    "test_every_scalar_function_the_suite_generated_reads_well",
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
# environment, the command line. .ci/run runs them on every interpreter,
# and the others on the default one and one other (AUTODIFF_AST_SHARE).
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
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture
def generated():
    return GENERATED
