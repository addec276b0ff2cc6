"""The project's own error type: a mistake a user can make (a bad file, a missing column,
a tampered bundle), reported as one clear line. The CLI catches this type and no other,
so a real bug still shows its traceback."""

from __future__ import annotations


class LurescanError(ValueError):
    """A user-caused error with a message that names the file or value and the problem."""
