"""Console capture (trackway._console): pass-through, \\r collapse, stream order, modes."""

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import clean_env, only_run, read_log, run_script

SCRIPT = r"""
import os, sys
from trackway import _console
run_dir = sys.argv[1]
os.makedirs(run_dir, exist_ok=True)
h = _console.start(run_dir, None, {"console": os.environ.get("MODE", "wrap")})
print("hello world")
for i in range(5):
    sys.stdout.write(f"\rtraining {i * 25:3d}% |" + "#" * i)
    sys.stdout.flush()
sys.stdout.write("\n")
sys.stderr.write("warning: lr is high\n")
sys.stdout.write("partial ")
sys.stdout.write("line\n")
sys.stdout.write("\rabcdef\rxy\n")
sys.stdout.write("\rabcdef\rxy\x1b[K\n")
sys.stdout.write("\x1b[32mgreen\x1b[0m ünïcode ✓\n")
sys.stderr.write("no newline at the end")
if h is not None:
    h.stop()
print("after stop")
"""

EXPECTED_LINES = [
    ("out", "hello world"),
    ("out", "training 100% |####"),
    ("err", "warning: lr is high"),
    ("out", "partial line"),
    ("out", "xycdef"),
    ("out", "xy"),
    ("out", "green ünïcode ✓"),
    ("err", "no newline at the end"),
]


def run(tmp: Path, mode: str, name: str):
    script = tmp / "console_script.py"
    script.write_text(SCRIPT)
    run_dir = tmp / name
    env = clean_env(tmp, MODE=mode, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(run_dir)],
        env=env,
        cwd=tmp,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done, run_dir


def output_records(run_dir: Path):
    records, corrupt = read_log(run_dir)
    assert corrupt == []
    return [r for r in records if r["t"] == "output"], records


def test_output_reaches_terminal_unchanged_and_is_captured_in_order(tmp):
    plain, _ = run(tmp, "off", "off-run")
    captured, run_dir = run(tmp, "wrap", "wrap-run")
    assert captured.stdout == plain.stdout, "stdout must pass through byte for byte"
    assert captured.stderr == plain.stderr, "stderr must pass through byte for byte"
    assert b"\rtraining   0% |" in captured.stdout, "the terminal still gets every \\r update"

    outs, records = output_records(run_dir)
    assert [(r["stream"], r["text"]) for r in outs] == EXPECTED_LINES
    assert [r["line"] for r in outs] == list(range(len(EXPECTED_LINES)))
    assert all(isinstance(r["ts"], float) for r in outs)
    log = (run_dir / "files" / "output.log").read_text(encoding="utf-8")
    assert log == "".join(t + "\n" for _, t in EXPECTED_LINES)
    assert "after stop" not in log, "nothing is captured after stop()"
    assert {"t": "file", "path": "output.log", "policy": "live"} in records


def test_console_off_captures_nothing(tmp):
    _, run_dir = run(tmp, "off", "off-run")
    assert not (run_dir / "files" / "output.log").exists()
    assert not (run_dir / "run.jsonl").exists()


def test_redirect_mode_captures_subprocess_and_raw_fd_output(tmp):
    script = tmp / "redirect.py"
    script.write_text(
        textwrap.dedent(r"""
        import os, subprocess, sys
        from trackway import _console
        run_dir = sys.argv[1]
        os.makedirs(run_dir, exist_ok=True)
        h = _console.start(run_dir, None, {"console": "redirect"})
        print("from python", flush=True)
        os.write(1, b"raw fd write\n")
        subprocess.run(["sh", "-c", "echo from child; echo child err >&2"], check=True)
        os.write(2, b"\rstep 1\rstep 2\n")
        h.stop()
        print("after stop", flush=True)
    """)
    )
    run_dir = tmp / "redirect-run"
    done = subprocess.run(
        [sys.executable, str(script), str(run_dir)],
        env=clean_env(tmp),
        cwd=tmp,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b"from python\nraw fd write\nfrom child\nafter stop\n"
    assert done.stderr == b"child err\n\rstep 1\rstep 2\n"
    outs, _ = output_records(run_dir)
    got = [(r["stream"], r["text"]) for r in outs]
    assert ("out", "from child") in got and ("err", "child err") in got
    assert [t for s, t in got if s == "out"] == ["from python", "raw fd write", "from child"]
    assert ("err", "step 2") in got


def test_forked_child_passes_through_without_writing_the_run(tmp):
    script = tmp / "fork.py"
    script.write_text(
        textwrap.dedent(r"""
        import os, sys
        from trackway import _console
        run_dir = sys.argv[1]
        os.makedirs(run_dir, exist_ok=True)
        h = _console.start(run_dir, None, {})
        print("parent before", flush=True)
        pid = os.fork()
        if pid == 0:
            print("child line", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("parent after", flush=True)
        h.stop()
    """)
    )
    run_dir = tmp / "fork-run"
    done = subprocess.run(
        [sys.executable, str(script), str(run_dir)],
        env=clean_env(tmp),
        cwd=tmp,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"child line" in done.stdout, "the child's output still reaches the terminal"
    outs, _ = output_records(run_dir)
    assert [r["text"] for r in outs] == ["parent before", "parent after"]


def test_init_captures_console_of_a_real_run(tmp):
    done = run_script(
        tmp,
        """
import sys
import trackway
run = trackway.init(project="p")
print("epoch 1")
sys.stderr.write("oops\\n")
for i in range(3):
    sys.stdout.write(f"\\r{i}/3")
print()
trackway.finish()
print("not captured")
""",
    )
    # run_script reads text mode, which turns each \r into \n: the bar updates all arrived
    assert done.stdout == "epoch 1\n\n0/3\n1/3\n2/3\nnot captured\n"
    run_dir = only_run(tmp)
    outs, records = output_records(run_dir)
    # trackway's own banner (printed after init, like wandb's) is part of the console too
    mine = [(r["stream"], r["text"]) for r in outs if not r["text"].startswith("trackway: ")]
    assert mine == [("out", "epoch 1"), ("err", "oops"), ("out", "2/3")]
    finish_at = next(i for i, r in enumerate(records) if r["t"] == "finish")
    assert all(records.index(r) < finish_at for r in outs), "output records precede finish"
    log = (run_dir / "files" / "output.log").read_text()
    assert [ln for ln in log.splitlines() if not ln.startswith("trackway: ")] == [
        "epoch 1",
        "oops",
        "2/3",
    ]


def test_console_off_setting_in_init(tmp):
    run_script(
        tmp,
        """
import trackway
trackway.init(project="p")  # console off through TRACKWAY_CONSOLE
print("x")
trackway.finish()
""",
        env=clean_env(tmp, TRACKWAY_CONSOLE="off"),
    )
    run_dir = only_run(tmp)
    assert not (run_dir / "files" / "output.log").exists()
    outs, _ = output_records(run_dir)
    assert outs == []


def test_terminal_semantics_of_control_characters():
    from trackway._console import _Line

    cases = [
        ("abc\rX", "Xbc"),
        ("abc\b\bZ", "aZc"),
        ("abcdef\r\x1b[2Kok", "ok"),
        ("abcdef\x1b[1Kxy", " " * 6 + "xy"),
        ("\x1b[1;31mred\x1b[0m", "red"),
        ("100%\r", "100%"),
    ]
    for text, shown in cases:
        line = _Line()
        line.control(text)
        assert line.take() == shown, repr(text)


def test_wrap_captures_handlers_created_before_start_and_keeps_identity(tmp):
    script = tmp / "early.py"
    script.write_text(
        textwrap.dedent(r"""
        import logging, os, sys
        logging.basicConfig(format="%(levelname)s %(message)s")  # holds sys.stderr from now on
        from trackway import _console
        run_dir = sys.argv[1]
        os.makedirs(run_dir, exist_ok=True)
        h = _console.start(run_dir, None, {})
        assert sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__
        logging.warning("disk almost full")
        print("done")
        h.stop()
        assert "write" not in vars(sys.stdout) and "write" not in vars(sys.stderr)
        logging.warning("after stop")
    """)
    )
    run_dir = tmp / "early-run"
    done = subprocess.run(
        [sys.executable, str(script), str(run_dir)],
        env=clean_env(tmp),
        cwd=tmp,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"WARNING disk almost full\nWARNING after stop\n"
    outs, _ = output_records(run_dir)
    assert [(r["stream"], r["text"]) for r in outs] == [
        ("err", "WARNING disk almost full"),
        ("out", "done"),
    ]
