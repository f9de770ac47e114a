"""Test-wide settings.

No persistent cache unless a test asks for one: the disk cache would let a
second generation come from the first, so a test of generation
(determinism, say) could not fail. Subprocesses inherit the setting
through the environment.

Hypothesis profiles: "ci" (the default) is bounded and derandomized;
"quick" draws fewer programs (.ci/run uses it on the Pythons other than
the default one); `--hypothesis-profile=thorough` draws thousands.
"""

import os

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
