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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from stance.errors import StanceError

# Imported once by the fork server, so each worker forked from it starts with them loaded.
PRELOAD = [__name__, "stance.bulk", "stance.api", "stance.artifacts", "stance.compiled", "stance.outputs"]


def available_cores() -> int:
    """The cores this process may run on (the affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(main: int) -> None:
    """In a worker: end it when the main process is gone without stopping it (SIGKILL, say),
    whatever the worker is doing; a read of a chunk that the main process was killed half way
    through writing would otherwise wait for ever. (The main process's pid, not multiprocessing's
    parent sentinel: a fork server's children keep each other's sentinels open.)"""
    import time

    while _alive(main):
        time.sleep(1.0)
    os._exit(1)


def _serve(make_work: Callable, arguments: tuple, tasks, results, main: int) -> None:
    """A worker: set up its work once, then answer (number, chunk) tasks with (number, ok,
    result or exception) until it is sent None."""
    import signal
    import traceback

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        work, failure = make_work(*arguments), None
    except Exception as err:  # reported with the first chunk, as that chunk's error
        work, failure = None, _portable(err, traceback.format_exc())
    import threading

    threading.Thread(target=_watch, args=(main,), daemon=True).start()
    while True:
        task = tasks.get()
        if task is None:
            return
        number, chunk = task
        if failure is not None:
            results.put((number, False, failure))
            continue
        try:
            results.put((number, True, work(chunk)))
        except Exception as err:
            results.put((number, False, _portable(err, traceback.format_exc())))


class WorkerError(Exception):
    """A bug met in a worker process: its traceback, to be raised in the main process."""


def _portable(err: Exception, trace: str) -> Exception:
    """The exception to send back: a StanceError as it is (its message is the one-line error),
    anything else as a WorkerError carrying the worker's traceback."""
    return err if isinstance(err, StanceError) else WorkerError(trace)


class WorkerFailed(StanceError):
    """A worker process ended without an answer (killed, or out of memory)."""


def ordered_map(make_work: Callable, arguments: tuple, chunks: Iterable[tuple], jobs: int) -> Iterator[tuple]:
    """For each (chunk, kept) pair, (`make_work(*arguments)(chunk)`, kept), computed in `jobs`
    worker processes (each calls `make_work` once, when it starts) and yielded in input order;
    `kept` stays in this process."""
    import multiprocessing
    import signal

    import tempfile

    # The fork server listens on a Unix socket under the temporary folder, whose path may hold
    # at most 107 bytes; under a deeper $TMPDIR, workers are spawned instead (slower to start).
    if len(os.fsencode(tempfile.gettempdir())) > 60:
        context = multiprocessing.get_context("spawn")
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
    tasks, results = context.Queue(), context.Queue()
    # Ctrl-C reaches the whole process group, workers included; this process stops them itself.
    # SIGINT stays blocked in the workers (and the fork server) from their first instruction on,
    # since a blocked signal mask is inherited through fork and exec.
    workers: list = []
    try:
        with _signals_deferred():  # a worker half started could not be stopped
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                for _ in range(jobs):
                    worker = context.Process(target=_serve, args=(make_work, arguments, tasks, results, os.getpid()),
                                             daemon=True)
                    worker.start()
                    workers.append(worker)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        yield from _in_order(workers, tasks, results, chunks, jobs)
    finally:
        stop(workers, (tasks, results))


@contextmanager
def _signals_deferred():
    """SIGINT and SIGTERM that arrive inside the block take effect at its end, as they would have
    (KeyboardInterrupt, stance.cli's SystemExit), not half way through starting a process."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread has handlers
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        handler = previous[arrived[0]]
        if callable(handler):
            handler(arrived[0], None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), arrived[0])


def _in_order(workers, tasks, results, chunks: Iterable[tuple], jobs: int) -> Iterator[tuple]:
    import queue

    answers: dict[int, tuple] = {}
    kept: dict[int, object] = {}

    def answer(number: int) -> tuple:
        while number not in answers:
            try:
                got, ok, value = results.get(timeout=0.5)
            except queue.Empty:
                if not all(worker.is_alive() for worker in workers):
                    raise WorkerFailed("a worker process ended without an answer (killed, or out of memory?); run "
                                       "again with --jobs 1 to label in one process.") from None
                continue
            answers[got] = (ok, value)
        ok, value = answers.pop(number)
        if not ok:
            raise value
        return value, kept.pop(number)

    sent = done = 0
    for chunk, keep in chunks:
        tasks.put((sent, chunk))
        kept[sent] = keep
        sent += 1
        while sent - done >= 2 * jobs:
            yield answer(done)
            done += 1
    while done < sent:
        yield answer(done)
        done += 1
    for _ in workers:
        tasks.put(None)
    for worker in workers:
        worker.join(timeout=30)


def stop(workers, queues=()) -> None:
    """Terminate the workers now (whatever they are doing), wait until they are gone, and let
    this process exit without flushing what the queues still hold for them."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=5)
    for channel in queues:
        channel.cancel_join_thread()
        channel.close()
