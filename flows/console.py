"""What Prefect prints on the console of a CLI run."""

from __future__ import annotations

import logging

from prefect.logging.handlers import PrefectConsoleHandler

from schouw.errors import SchouwError


class _WithoutKnownTraceback(logging.Formatter):
    """Formats as ``inner`` does, leaving out the traceback of a :class:`SchouwError` (bad input or a stuck run,
    said in one line)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info and isinstance(record.exc_info[1], SchouwError)):
            return self.inner.format(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None  # the same record goes on to the API handler: put back below
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text = saved


def known_errors_in_one_line() -> None:
    """Prefect's console handlers print the line of an error schouw raised on purpose without its traceback.

    A task or flow that fails is logged by Prefect's engine with its traceback: 60 lines for a missing file
    in a batch, which ends with the same error in one line anyway; likewise for a run stopped as stuck
    (:class:`schouw.errors.StallError`). Unexpected failures keep theirs; the Prefect API still gets every
    traceback. Call after Prefect is imported (it sets up its logging then).
    """
    loggers = [logging.getLogger()] + [v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _WithoutKnownTraceback):
                handler.setFormatter(_WithoutKnownTraceback(handler.formatter or logging.Formatter()))
