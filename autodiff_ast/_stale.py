"""A name whose array was filled after the name took it.

``y = Y[i]`` then ``Y[i + 1] = ...``: in NumPy ``y`` is a view of ``Y``,
and reads the filled values where the two overlap. Lowering holds values,
so the name's value would be the array as it was. Reading the name again
is refused at that read (a row read into a name and the next row filled
is the usual integrator, and fine as long as the row is not read again).
"""

from __future__ import annotations

__all__ = ["Stale"]


class Stale:
    """The value of a name that held an array (or a view of it) filled
    since: what reading it says."""

    def __init__(self, name: str, array: str, line: int) -> None:
        self.name, self.array, self.line = name, array, line

    def refusal(self) -> str:
        # Either fix keeps a value the code means: NumPy's (the filled
        # values, read anew) or the one from before the fill (a copy).
        return (f"{self.name} holds {self.array} or a view of it, and "
                f"{self.array} was filled since (line {self.line}), which "
                f"changes {self.name} too: to read the filled values, take "
                f"{self.name} from {self.array} again after the fill; to "
                f"read the values from before it, make {self.name} a copy "
                f"(.copy() where it is bound)")
