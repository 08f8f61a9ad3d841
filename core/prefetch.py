"""The run's batches made ahead, in a second process, while the training steps run.

Distorting a batch of 64 digits (core.augment) takes about a fifth as long as the training step
that uses it, and needs nothing from that step: only the run's random numbers. So a worker
process runs the run's batch generator (core.batches) and puts each batch in one of SLOTS slots
of memory the two processes share, while the training process steps on earlier ones. The batches
are the same ones in the same order, bit for bit: only the worker's copy of the generator is
ever advanced.

The processes pass slot numbers through two pipes, never arrays:
    free:   training -> worker   "slot k may be filled"
    ready:  worker -> training   "slot k holds a batch of B", or "no more", or "failed: why"
Waking a process that waits on a pipe is the costly part (tens of microseconds on a virtual
machine), so the training process hands slots back half a ring at a time: the worker wakes once
per SLOTS // 2 batches, fills them, and waits again. A pipe also tells each side when the other
is gone: the worker ends when the training process stops reading (or dies), and the training
process raises BatchWorkerFailed, with the reason, when the worker fails or is killed.

The worker is made by os.fork, so it starts at once and reads the images without a copy. That
needs Linux (fork elsewhere is unsafe or missing); core.train makes the batches in line there.
"""
import gc
import mmap
import os
import signal
import struct
import sys
import threading
import traceback

import numpy as np

from core.errors import BatchWorkerFailed
from core.mnist_format import IMAGE_SHAPE

SLOTS = 8  # batches made ahead at most; handed back to the worker half at a time
_MESSAGE = struct.Struct("=ii")  # (slot, count): a batch's length, or the length of a failure's text
_END, _FAILED = -1, -2  # slot numbers that are not slots
_UNKNOWN = -1  # not a wait status (those are never negative): the worker was reaped by someone else


def available():
    """True where a worker can be forked safely: Linux, and this process runs a single thread."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def prefetched(batches, batch_size, slots=SLOTS):
    """Yield what the generator `batches` yields, (indices (B,) int64, x (B, 28, 28) float32) with
    B <= batch_size, made by a forked worker up to `slots` batches ahead. The arrays are views of
    shared memory, valid until the next batch is asked for (then the worker may reuse them).
    Closing this generator (or dropping it) ends the worker. If no worker can be started, the
    batches are made here, in line."""
    try:
        worker = _Worker(batches, _Ring(slots, batch_size))
    except OSError:  # no process or memory to be had (a process limit, say): the same batches, made here
        yield from batches
        return
    try:
        yield from worker.receive()
    finally:
        worker.stop()


class _Ring:
    """`slots` batches, each up to batch_size images and their indices, in memory both processes share."""

    def __init__(self, slots, batch_size):
        if slots < 2:
            raise ValueError("a ring needs at least 2 slots: one in use, one being filled")
        self.slots = slots
        image_bytes = slots * batch_size * np.prod(IMAGE_SHAPE) * 4
        self._memory = mmap.mmap(-1, int(image_bytes + slots * batch_size * 8))  # anonymous, shared across fork
        self.images = np.ndarray((slots, batch_size, *IMAGE_SHAPE), np.float32, self._memory)  # (S, B, 28, 28)
        self.indices = np.ndarray((slots, batch_size), np.int64, self._memory, int(image_bytes))  # (S, B)

    def put(self, slot, batch, x):
        """Write indices (B,) and images x (B, 28, 28) float32 into `slot` (in the worker)."""
        x = np.asarray(x)
        if x.dtype != np.float32 or x.shape != (len(batch), *IMAGE_SHAPE):
            raise TypeError(f"a prefetched batch must be ({len(batch)}, 28, 28) float32, not {x.shape} {x.dtype}")
        self.indices[slot, :len(batch)] = batch
        self.images[slot, :len(batch)] = x

    def view(self, slot, count):
        """The `count` indices (B,) and images (B, 28, 28) in `slot`, as views (in the training process)."""
        return self.indices[slot, :count], self.images[slot, :count]


class _Worker:
    """The forked process filling the ring, seen from the training process."""

    def __init__(self, batches, ring):
        self._ring = ring
        free_out, self._free = os.pipe()  # training -> worker
        self._ready, ready_in = os.pipe()  # worker -> training
        try:
            self.pid = os.fork()
        except OSError:
            for fd in (free_out, self._free, self._ready, ready_in):
                os.close(fd)
            raise
        if self.pid == 0:
            _serve_and_exit(batches, ring, free_out, ready_in)  # never returns
        os.close(free_out)
        os.close(ready_in)
        self._inbox = _Inbox(self._ready)
        self._exit_status = None
        self._release(range(ring.slots))

    def receive(self):
        """Yield the worker's batches in order until it has sent them all."""
        used = []  # slots whose batches have been yielded and are no longer looked at
        while True:
            slot, count = self._message()
            if slot == _END:
                return
            yield self._ring.view(slot, count)
            used.append(slot)  # the next batch is being asked for: this one is done with
            if len(used) == self._ring.slots // 2:
                self._release(used)
                used = []

    def stop(self):
        """End the worker (if it has not ended) and reap it; closes both pipes."""
        for fd in (self._free, self._ready):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._exit_status is None and self.pid > 0:  # never kill(0, ...): that is the whole process group
            try:
                os.kill(self.pid, signal.SIGKILL)  # it holds nothing worth finishing
            except ProcessLookupError:
                pass
            self._reap()

    def _release(self, slots):
        """Hand `slots` back to the worker, in one write (one wake-up)."""
        try:
            os.write(self._free, b"".join(_MESSAGE.pack(slot, 0) for slot in slots))
        except BrokenPipeError:
            pass  # the worker has sent its last batch and ended; if it failed, _message says so

    def _message(self):
        """The next (slot, count) from the worker; raises BatchWorkerFailed if it failed or went away."""
        header = self._inbox.read(_MESSAGE.size)
        if header is None:
            self._reap()
            raise BatchWorkerFailed(f"The process making the training batches stopped unexpectedly "
                                    f"({_describe(self._exit_status)}). Start the training again.")
        slot, count = _MESSAGE.unpack(header)
        if slot == _FAILED:
            reason = (self._inbox.read(count) or b"").decode("utf-8", "replace")
            raise BatchWorkerFailed(f"Making the training batches failed: {reason}")
        return slot, count

    def _reap(self):
        try:
            _, self._exit_status = os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped by someone else: no status to tell
            self._exit_status = _UNKNOWN


def _describe(status):
    if status == _UNKNOWN:
        return "exit status unknown"
    if os.WIFSIGNALED(status):
        return f"ended by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class _Inbox:
    """Reads a pipe's messages, taking whatever has arrived with each read (one system call for several)."""

    def __init__(self, fd):
        self._fd = fd
        self._pending = b""

    def read(self, size):
        """The next `size` bytes, or None if the pipe closed first."""
        while len(self._pending) < size:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            self._pending += chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


def _serve_and_exit(batches, ring, free, ready):
    """The worker's whole life. It never returns into the forking caller's code."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the training process's to handle
        gc.freeze()  # collections here leave the inherited objects (and their shared pages) alone
        _close_all_but(free, ready)
        _serve(batches, ring, _Inbox(free), ready)
        status = 0
    except BaseException as error:  # noqa: BLE001 - whatever it was, the training process must hear of it
        _tell_failure(ready, error)
    finally:
        os._exit(status)


def _close_all_but(*keep):
    """Close every inherited file descriptor above stderr except `keep`: another process's pipes
    held open here would hide that process's end from whoever reads them."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def _serve(batches, ring, free, ready):
    """Make each batch, wait for a free slot, fill it and say so; then say there are no more."""
    for batch, x in batches:
        header = free.read(_MESSAGE.size)
        if header is None:
            return  # the training process stopped reading
        slot, _ = _MESSAGE.unpack(header)
        ring.put(slot, batch, x)
        os.write(ready, _MESSAGE.pack(slot, len(batch)))
    os.write(ready, _MESSAGE.pack(_END, 0))


def _tell_failure(ready, error):
    text = "".join(traceback.format_exception_only(error)).strip()
    reason = text.encode("utf-8", "backslashreplace")[:4096]  # a lone surrogate (an undecodable name) as \udcff
    try:
        os.write(ready, _MESSAGE.pack(_FAILED, len(reason)) + reason)
    except OSError:
        pass  # nobody is listening any more
