"""The one exception type for user mistakes: bad files, unknown ids, bad options."""

from __future__ import annotations

__all__ = ["InputError", "brief"]


class InputError(ValueError):
    """A mistake in what the user gave; the message names the file, line or field.

    The CLI prints the message on one line and exits with status 2, never a traceback.

    >>> str(InputError("unknown layer 'X'", source="m.yaml", line=4))
    "m.yaml:4: unknown layer 'X'"
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line else "") + ": "
        return where + self.message

    def located(self, source: str, line: int | None = None) -> InputError:
        """Return a copy that names ``source`` (and ``line``) unless it already does."""
        if self.source:
            return self
        return InputError(self.message, source=source, line=line or self.line)


def brief(value: object, limit: int = 40) -> str:
    """``value`` as ``repr`` shows it, for quoting in a message, cut to about ``limit``
    characters (a 5,000-digit number from a file would otherwise fill the screen).

    >>> print(brief("9" * 100, 12))
    '999999999999…' (100 characters)
    >>> print(brief("0.5"), brief(["a"] * 30, 10))
    '0.5' ['a', 'a',… (150 characters)
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit] + '…'!r} ({len(value):,} characters)"
    shown = repr(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown):,} characters)"
