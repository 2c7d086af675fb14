"""A wrapper that keeps personal values out of output by accident."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")

MASK = "«redacted»"


class Personal(Generic[T]):
    """A personal value that prints as a mask.

    ``str()``, ``repr()``, ``format()`` and logging all show :data:`MASK`.
    The value is read only through :meth:`reveal`, so every place that uses
    the plaintext is visible in the code.

    Limits: this guards against accidental output (log lines, tracebacks,
    template debugging); it does not stop code that calls :meth:`reveal` and
    prints the result.
    """

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        """Return the plaintext value."""
        return self._value

    def __repr__(self) -> str:
        return f"Personal({MASK})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Personal):
            return bool(self._value == other._value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("personal values cannot be pickled")
