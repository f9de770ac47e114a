"""Rows of the array table for casts and conversions of array values:
``.astype(...)`` and ``.item()``.
"""

from __future__ import annotations

__all__: list[str] = []
