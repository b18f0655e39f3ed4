"""Pausing Python's cyclic garbage collector around bulk work.

The whole-base passes (an import's batches, the value refresh, classification, the
duplicate scan) allocate hundreds of thousands of short-lived dicts, tuples and rows that
form no reference cycles: reference counting frees them. With the collector on, those
allocations keep setting off collections, and every third or so generation walks all
the objects the process holds (SQLAlchemy's metadata, the importer's memories, a chunk of
100k rows): measured at 100k customers and 1M orders, 1.1 s of reading the order file,
0.8 s of the duplicate scan's 2.2 s, 0.4 s of classification's 4 s.

The pause is process-wide (``gc.disable``), so it is counted: the TUI may run two such
passes in worker threads at once, and the collector comes back on when the last one ends,
and only if it was on when the first began. Cycles made meanwhile (sessions, transactions)
are collected then; a caller that loops pauses once per step, so memory stays bounded by
one step.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from functools import wraps
from typing import ParamSpec, TypeVar

_lock = threading.Lock()
_depth = 0
_was_enabled = False

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hold the cyclic collector back for the ``with`` block (see the module's docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def paused_during(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run with the collector paused."""

    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return func(*args, **kwargs)

    return run
