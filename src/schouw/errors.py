"""One error root for the library.

Every error a user can cause with bad input is an :class:`InputError`: the CLI
turns it into one ``error:`` line and exit code 2. Messages name the file, what
is wrong with it and what is expected instead.
"""

from __future__ import annotations


class SchouwError(Exception):
    """Root of every error raised on purpose by schouw."""


class InputError(SchouwError, ValueError):
    """The user's input cannot be processed (exit code 2)."""


class OrthophotoError(InputError):
    """The orthophoto is missing, unreadable or unsuitable."""


class AreasError(InputError):
    """The AREAS file is missing, unreadable or unsuitable."""


class ParameterError(InputError):
    """A command-line option or parameter value is out of range."""


class StallError(SchouwError):
    """Tile work stopped making progress: a worker is stuck (exit code 1). The tiles finished are kept; a rerun resumes."""

    @classmethod
    def after(cls, stall_s: float, stuck: str) -> "StallError":
        """The error when no tile finished for ``stall_s`` seconds; ``stuck`` says what is stuck and what was done."""
        return cls(f"no tile finished in {stall_s:g} s: {stuck}; the tiles finished are kept, so the same command "
                   "resumes from them (--stall-timeout, or the flow parameter stall_timeout_s, sets the limit)")


class OutputError(InputError):
    """The output folder cannot be created or written (a path the user gave, or its default)."""
