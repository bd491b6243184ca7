"""Worker processes for `stance predict --file --jobs N`: chunks of rows go out to N processes,
each of which loaded the model once, and come back in input order.

At most `2 * N` chunks are out at a time, so memory stays flat however long the input is. An
error in a worker (a bad line, a bad row) comes back as the same exception, raised when its
chunk's turn comes, so the message is the one a single process gives. Whatever ends the run
(an error, Ctrl-C, SIGTERM, which stance.cli turns into SystemExit) terminates the workers
before it goes on, so none is left behind.

Workers are started by a fork server (multiprocessing's "forkserver"): a clean process, started
before any worker, that forks them. Forking the main process itself would copy whatever threads
it holds (pyarrow's thread pools), which can deadlock a child.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from stance.errors import StanceError

# Imported once by the fork server, so each worker forked from it starts with them loaded.
PRELOAD = [__name__, "stance.bulk", "stance.api", "stance.artifacts", "stance.compiled", "stance.outputs"]
_WORK: Callable | None = None  # in a worker: what each chunk goes through


def available_cores() -> int:
    """The cores this process may run on (the affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_worker(make_work: Callable, arguments: tuple) -> None:
    import signal

    global _WORK
    # Ctrl-C reaches the whole process group; the main process stops the workers itself, so a
    # worker ignores it rather than printing a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORK = make_work(*arguments)


def _run(chunk):
    return _WORK(chunk)


class WorkerFailed(StanceError):
    """A worker process ended without an answer (killed, or out of memory)."""


def ordered_map(make_work: Callable, arguments: tuple, chunks: Iterable[tuple], jobs: int) -> Iterator[tuple]:
    """For each (chunk, kept) pair, (`make_work(*arguments)(chunk)`, kept), computed in `jobs`
    worker processes (each calls `make_work` once, when it starts) and yielded in input order;
    `kept` stays in this process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(make_work, arguments))
    pending: deque = deque()
    try:
        for chunk, kept in chunks:
            pending.append((pool.submit(_run, chunk), kept))
            if len(pending) >= 2 * jobs:
                future, kept = pending.popleft()
                yield future.result(), kept
        while pending:
            future, kept = pending.popleft()
            yield future.result(), kept
        pool.shutdown(wait=True)
    except BrokenProcessPool:
        raise WorkerFailed("a worker process ended without an answer (killed, or out of memory?); run again with "
                           "--jobs 1 to label in one process.") from None
    finally:
        stop(pool)


def stop(pool) -> None:
    """Terminate the pool's workers now (whatever they are doing) and wait until they are gone."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
