"""Console capture: what the training process prints, stored with its run.

Entry points:

- ``start(run_dir, log_append_fn=None, settings=None) -> Console | None`` -- starts capturing
  stdout and stderr. ``settings["console"]`` (or ``TRACKWAY_CONSOLE``/``WANDB_CONSOLE``):
  ``off`` -> nothing, returns None; ``wrap`` (default; ``auto`` means wrap) wraps
  ``sys.stdout``/``sys.stderr``; ``redirect`` captures at the file-descriptor level.
  ``log_append_fn(record: dict)`` appends a record to the run log (default: append to
  ``<run_dir>/run.jsonl`` with ``_files.append_record``).
- ``Console.stop()`` -- emits unfinished lines, restores the streams; idempotent.
- ``on_init(run)`` -- the `_lifecycle` hook: ``start`` for the run, returns ``stop(exit_code)``.

What is written: every completed line goes to ``<run_dir>/files/output.log`` (announced once
with a ``{"t":"file","path":"output.log","policy":"live"}`` record so the agent uploads it) and
to the run log as ``{"t":"output","stream":"out"|"err","line":N,"ts":T,"text":...}`` for live
streaming. ``N`` counts lines of both streams together from 0, in the order they completed.
Lines are what a terminal would finally show: ``\\r`` returns to column 0 and later characters
overwrite (so a tqdm bar collapses to its final state), ``\\b`` moves back, ``ESC[K`` erases to
the end of the line, other ANSI escape sequences are dropped. A line is emitted at ``\\n`` (or at
stop); lines longer than 64 KiB are split.

Why ``wrap`` is the default: it needs no thread and no file-descriptor games, is fork-safe (a
forked child only passes through), and output reaches the terminal exactly as before because
every write goes to the original stream first, unchanged. ``write`` is patched on the stream
objects themselves (a proxy replaces them only if they refuse), so handlers that kept a reference
to ``sys.stderr`` before ``init()`` -- ``logging.basicConfig()``, tqdm -- are captured too. It
does not see output written to the file descriptors directly (C extensions, subprocesses).
``redirect`` does: it replaces fds 1 and 2 with pipes and starts one reader thread per stream
(created at ``start``, never at import) that copies bytes to the original terminal and then
captures them; subprocess output is included. Its costs: a thread per stream, and output of
children that outlive the run is captured until ``stop`` (which waits at most 2 s for them).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time

OUTPUT_FILE = "output.log"
MAX_LINE = 64 * 1024
_SPECIAL = re.compile(r"[\r\b\x1b]")
_CONTROL = re.compile(r"\r|\x08|\x1b\[[0-9;?]*[@-~]|\x1b[@-Z\\-_]")


class _Line:
    """One stream's unfinished line, with a terminal's cursor semantics."""

    __slots__ = ("text", "col")

    def __init__(self) -> None:
        self.text = ""
        self.col = 0

    def put(self, text: str) -> None:
        col = self.col
        if col == len(self.text):
            self.text += text
        else:  # overwrite from the cursor, as a terminal does after \r
            self.text = self.text[:col] + text + self.text[col + len(text) :]
        self.col = col + len(text)

    def control(self, text: str) -> None:
        """Handles a chunk that contains \\r, \\b or escape sequences."""
        pos = 0
        for m in _CONTROL.finditer(text):
            self.put(text[pos : m.start()])
            tok = m.group(0)
            if tok == "\r":
                self.col = 0
            elif tok == "\b":
                self.col = max(0, self.col - 1)
            elif tok.endswith("K"):
                arg = tok[2:-1]
                if arg in ("", "0"):
                    self.text = self.text[: self.col]
                elif arg == "2":
                    self.text = ""
                elif arg == "1":
                    self.text = " " * self.col + self.text[self.col :]
            pos = m.end()
        self.put(text[pos:])

    def take(self) -> str:
        s = self.text
        self.text = ""
        self.col = 0
        return s


class Console:
    """A running capture; see the module docstring."""

    def __init__(self, run_dir: str, log_append_fn, mode: str) -> None:
        self._files_dir = os.path.join(run_dir, "files")
        os.makedirs(self._files_dir, exist_ok=True)
        self._owned_log = None
        if log_append_fn is None:
            from ._files import LogAppender

            log_append_fn = self._owned_log = LogAppender(os.path.join(run_dir, "run.jsonl"))
        self._append = log_append_fn
        self._out = open(
            os.path.join(self._files_dir, OUTPUT_FILE), "a", encoding="utf-8", errors="replace"
        )
        self._lock = threading.RLock()
        self._lines = {"out": _Line(), "err": _Line()}
        self._next = 0
        self._flushed = 0.0
        self._pid = os.getpid()
        self._busy = False
        self._active = True
        self.mode = mode
        self._saved: dict = {}
        self._append({"t": "file", "path": OUTPUT_FILE, "policy": "live"})

    # -- feeding --------------------------------------------------------------------------------
    def feed(self, stream: str, text: str) -> None:
        """Capture `text` written to `stream` ("out" or "err"). Never raises."""
        if not self._active or os.getpid() != self._pid or not text:
            return  # stopped, or a forked child: pass through only
        with self._lock:
            if self._busy:
                return  # re-entered from our own write (same thread): don't capture ourselves
            self._busy = True
            try:
                self._feed_locked(stream, text)
            except Exception:  # capture must never break the program's output
                self._active = False
            finally:
                self._busy = False

    def _feed_locked(self, stream: str, text: str) -> None:
        line = self._lines[stream]
        if text == "\n":  # print() writes its newline separately: the common case
            self._emit(stream, line.take())
            return
        parts = text.split("\n")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if part:
                if _SPECIAL.search(part):
                    line.control(part)
                else:
                    line.put(part)
            if i < last or len(line.text) > MAX_LINE:
                self._emit(stream, line.take())

    def _emit(self, stream: str, text: str) -> None:
        n = self._next
        self._next += 1
        now = time.time()
        self._out.write(text + "\n")
        if now - self._flushed >= 0.5:  # output.log is for upload, not a live view: batch writes
            self._out.flush()
            self._flushed = now
        self._append({"t": "output", "stream": stream, "line": n, "ts": now, "text": text})

    # -- stopping -------------------------------------------------------------------------------
    def stop(self) -> None:
        if not self._active and not self._saved:
            return
        if os.getpid() != self._pid:
            return
        self._restore_streams()
        with self._lock:
            try:
                for stream, line in self._lines.items():
                    if line.text:
                        self._emit(stream, line.take())
            finally:
                self._active = False
                self._out.close()
                if self._owned_log is not None:
                    self._owned_log.close()

    def _restore_streams(self) -> None:
        saved, self._saved = self._saved, {}
        for name in ("stdout", "stderr"):
            if name in saved:
                how, orig = saved[name]
                _unwrap(self, name, how, orig)
        if "fds" in saved:
            _stop_redirect(saved["fds"])


class _Wrapped:
    """Stands in for sys.stdout/sys.stderr when their `write` cannot be patched in place:
    writes go to the original stream first, unchanged."""

    def __init__(self, orig, console: Console, stream: str) -> None:
        self._orig = orig
        self._console = console
        self._stream = stream

    def write(self, s):
        n = self._orig.write(s)
        if isinstance(s, str):
            self._console.feed(self._stream, s)
        return n

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def __getattr__(self, name):
        return getattr(self._orig, name)


def _patched_write(target, console: Console, stream: str):
    orig_write = target.write

    def write(s):
        n = orig_write(s)
        if isinstance(s, str):
            console.feed(stream, s)
        return n

    write._trackway_console = console  # marks our patch, so stop() removes only its own
    # What stop() puts back: an instance-level write someone else patched in (IPython's per-cell
    # tee), or None for the class's own write.
    write._trackway_inner = getattr(target, "__dict__", {}).get("write")
    return write


def _wrap(console: Console) -> None:
    """Patches `write` on the stream objects themselves, so code that kept a reference to them
    before init (logging handlers, tqdm) is captured too and `sys.stdout is sys.__stdout__`
    still holds; streams that refuse the patch are replaced by a proxy."""
    for name, stream in (("stdout", "out"), ("stderr", "err")):
        orig = getattr(sys, name)
        if orig is None:
            continue
        try:
            orig.write = _patched_write(orig, console, stream)
            console._saved[name] = ("patched", orig)
        except (AttributeError, TypeError):
            console._saved[name] = ("proxy", orig)
            setattr(sys, name, _Wrapped(orig, console, stream))


def _unwrap(console: Console, name: str, how: str, orig) -> None:
    if how == "patched":
        current = orig.__dict__.get("write")
        if getattr(current, "_trackway_console", None) is console:
            if current._trackway_inner is None:
                del orig.write  # back to the class's write
            else:
                orig.write = current._trackway_inner
    else:
        current = getattr(sys, name)
        if isinstance(current, _Wrapped) and current._console is console:
            setattr(sys, name, orig)


# -- redirect mode (file-descriptor level) ------------------------------------------------------
def _start_redirect(console: Console) -> None:
    import codecs

    fds = []
    for fd, stream, pyname in ((1, "out", "stdout"), (2, "err", "stderr")):
        pystream = getattr(sys, pyname)
        if pystream is not None:
            pystream.flush()
        saved = os.dup(fd)
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def pump(r=r, saved=saved, stream=stream, decoder=decoder):
            while True:
                try:
                    chunk = os.read(r, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                _write_all(saved, chunk)  # the terminal first, byte for byte
                console.feed(stream, decoder.decode(chunk))
            os.close(r)

        t = threading.Thread(target=pump, name=f"trackway-console-{stream}", daemon=True)
        t.start()
        fds.append((fd, saved, t, pystream))
    console._saved["fds"] = fds


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            n = os.write(fd, data)
        except OSError:
            return
        data = data[n:]


def _stop_redirect(fds) -> None:
    for fd, saved, _thread, pystream in fds:
        if pystream is not None:
            try:
                pystream.flush()
            except Exception:
                pass
        os.dup2(saved, fd)  # closes our pipe's write end on fd; the reader sees EOF
    for _fd, saved, thread, _ in fds:
        thread.join(timeout=2.0)
        os.close(saved)


# -- entry points -------------------------------------------------------------------------------
def _mode(settings) -> str:
    mode = (settings or {}).get("console")
    if not mode:
        mode = os.environ.get("TRACKWAY_CONSOLE") or os.environ.get("WANDB_CONSOLE") or "auto"
    mode = str(mode).strip().lower()
    if mode in ("off", "false", "0", "none"):
        return "off"
    if mode in ("redirect",):
        return "redirect"
    return "wrap"  # auto, wrap, wrap_raw, wrap_emu


def start(run_dir: str, log_append_fn=None, settings=None):
    mode = _mode(settings)
    if mode == "off":
        return None
    console = Console(run_dir, log_append_fn, mode)
    if mode == "redirect":
        try:
            _start_redirect(console)
            return console
        except OSError:
            console.mode = "wrap"  # no usable fds 1/2 (embedded interpreter): fall back
    _wrap(console)
    return console


def _follow_ipython(console: Console):
    """IPython (9+) puts its own `write` on sys.stdout/sys.stderr for each cell and, when the
    cell ends, puts back the one it found at the start, dropping a patch made during the cell.
    So in IPython the patch is made again as every cell starts. Returns the undo, or None."""
    from ._notebook import ipython_shell

    shell = ipython_shell()
    if shell is None or console.mode != "wrap":
        return None

    def rewrap(*_args) -> None:
        for name, stream in (("stdout", "out"), ("stderr", "err")):
            how, orig = console._saved.get(name, (None, None))
            if (
                how == "patched"
                and getattr(orig.__dict__.get("write"), "_trackway_console", None) is not console
            ):
                orig.write = _patched_write(orig, console, stream)

    shell.events.register("pre_run_cell", rewrap)

    def undo() -> None:
        try:
            shell.events.unregister("pre_run_cell", rewrap)
        except ValueError:
            pass

    return undo


def on_init(run):
    backend = getattr(run, "_backend", None)
    if getattr(backend, "log_path", None) is None:
        return None  # disabled run: nothing is stored
    settings = getattr(run, "_s", None) or {}
    console = start(run._run_dir, None, settings)
    if console is None:
        return None
    undo = _follow_ipython(console)

    def stop(exit_code=None) -> None:
        if undo is not None:
            undo()
        console.stop()

    return stop
