"""Test-wide settings: no persistent cache unless a test asks for one.

The disk cache would let a second generation come from the first, so a
test of generation (determinism, say) could not fail. Subprocesses inherit
the setting through the environment.
"""

import os

os.environ["AUTODIFF_AST_CACHE"] = "0"
