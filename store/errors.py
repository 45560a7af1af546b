"""The one exception hierarchy of mltui.

Every failure the user can cause (bad input, unknown names, a store of another version) is a
subclass of ``MltuiError`` with a message that names the problem, so that the CLI can map it to an
exit status in one place and the dashboard can show it without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class MltuiError(Exception):
    """Base of every error mltui raises on purpose."""

    exit_code = 1


class ValidationError(MltuiError, ValueError):
    """A key, value or argument breaks a rule; the message names the key and the rule."""

    exit_code = 2


class NotFound(MltuiError, LookupError):
    """An experiment, run, model, version or alias that does not exist."""

    exit_code = 1


class AlreadyExists(MltuiError):
    """A registered model (or other named thing) that cannot be created twice."""

    exit_code = 1


class AmbiguousName(MltuiError, LookupError):
    """A short name (run id prefix, run name) matches more than one thing."""

    exit_code = 2

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class StoreFormatError(MltuiError):
    """The folder is not an mltui store, or one of a format version this code cannot read."""


class QueryError(MltuiError):
    """A query that cannot be parsed or names something that does not exist.

    ``position`` is the 0-based character offset of the problem in ``query`` (or None when the
    problem is not tied to one place); ``expected`` lists what would have been valid there.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        query: str = "",
        position: int | None = None,
        expected: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position
        self.expected = expected or []

    def __str__(self) -> str:
        if self.position is None or not self.query:
            return self.message
        line = self.query.replace("\n", " ")
        return f"{self.message}\n  {line}\n  {' ' * self.position}^"


def did_you_mean(name: str, candidates: Iterable[str], containing: bool = False) -> str:
    """`` (did you mean a or b?)`` naming the closest of ``candidates`` (``containing``: else
    those that contain ``name``, "acc" for "val/accuracy"), or ''. difflib loads only for such a
    message, never on a search's way."""
    import difflib

    names = list(candidates)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close and containing:
        close = [c for c in names if name.lower() in c.lower()][:3]
    return f" (did you mean {' or '.join(close)}?)" if close else ""
