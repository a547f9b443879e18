"""save() (trackway._files): placement, policies, path validation, records; the process record."""

import os
from pathlib import Path

import pytest

from conftest import only_run, read_log, run_script
from trackway import _files


class FakeBackend:
    def __init__(self, run_dir: Path):
        self.log_path = str(run_dir / "run.jsonl")
        self.files_dir = str(run_dir / "files")


class FakeRun:
    """The attributes save() uses: the backend's files_dir and log_path."""

    def __init__(self, run_dir: Path):
        (run_dir / "files").mkdir(parents=True)
        self.dir = str(run_dir)
        self.files_dir = str(run_dir / "files")
        self._backend = FakeBackend(run_dir)


def file_records(run_dir: Path):
    records, corrupt = read_log(run_dir)
    assert corrupt == []
    return [r for r in records if r["t"] == "file"]


@pytest.fixture
def work(tmp, monkeypatch):
    work = tmp / "work"
    (work / "ckpt").mkdir(parents=True)
    monkeypatch.chdir(work)
    return work


def test_live_files_are_linked_and_recorded(tmp, work):
    run = FakeRun(tmp / "run")
    (work / "ckpt" / "a.pt").write_bytes(b"A")
    (work / "ckpt" / "b.pt").write_bytes(b"B")
    saved = _files.save(run, "ckpt/*.pt")
    assert saved == [os.path.join(run.files_dir, "ckpt", name) for name in ("a.pt", "b.pt")]
    link = Path(run.files_dir) / "ckpt" / "a.pt"
    assert link.is_symlink() and link.read_bytes() == b"A"
    (work / "ckpt" / "a.pt").write_bytes(b"A2")
    assert link.read_bytes() == b"A2", "live files follow the original"
    assert file_records(tmp / "run") == [
        {"t": "file", "path": "ckpt/a.pt", "policy": "live"},
        {"t": "file", "path": "ckpt/b.pt", "policy": "live"},
    ]


def test_now_copies_and_end_links(tmp, work):
    run = FakeRun(tmp / "run")
    (work / "summary.csv").write_text("a,b\n")
    (work / "final.ckpt").write_bytes(b"w")
    _files.save(run, "summary.csv", policy="now")
    _files.save(run, str(work / "final.ckpt"), base_path=str(work), policy="end")
    copy = Path(run.files_dir) / "summary.csv"
    assert copy.is_file() and not copy.is_symlink(), "`now` uploads the content at call time"
    (work / "summary.csv").write_text("changed later\n")
    assert copy.read_text() == "a,b\n"
    assert (Path(run.files_dir) / "final.ckpt").is_symlink()
    assert [r["policy"] for r in file_records(tmp / "run")] == ["now", "end"]


def test_absolute_path_without_base_keeps_one_directory_level(tmp, work):
    run = FakeRun(tmp / "run")
    target = tmp / "mnt" / "folder" / "model.h5"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"h5")
    _files.save(run, str(target))
    assert (Path(run.files_dir) / "folder" / "model.h5").read_bytes() == b"h5"
    _files.save(run, str(tmp / "mnt" / "folder" / "*.h5"), policy="now")
    assert [r["path"] for r in file_records(tmp / "run")] == ["folder/model.h5", "folder/model.h5"]


def test_dotdot_and_outside_paths_are_refused(tmp, work):
    run = FakeRun(tmp / "run")
    (tmp / "secret.txt").write_text("s")
    (work / "ok.txt").write_text("ok")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        _files.save(run, "../secret.txt")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        _files.save(run, "ckpt/../../secret.txt")
    with pytest.raises(ValueError, match="not inside base_path"):
        _files.save(run, str(tmp / "secret.txt"), base_path=str(work))
    with pytest.raises(ValueError, match="not inside base_path"):
        _files.save(run, "ok.txt", base_path=str(work / "ckpt"))
    with pytest.raises(ValueError, match="policy"):
        _files.save(run, "ok.txt", policy="sometimes")
    with pytest.raises(ValueError, match="remote"):
        _files.save(run, "s3://bucket/x")
    assert not (tmp / "run" / "run.jsonl").exists(), "a refused save() records nothing"
    assert sorted(os.listdir(run.files_dir)) == []


def test_future_file_is_linked_before_it_exists(tmp, work):
    run = FakeRun(tmp / "run")
    _files.save(run, "model.pt")
    link = Path(run.files_dir) / "model.pt"
    assert link.is_symlink() and not link.exists()
    (work / "model.pt").write_bytes(b"later")
    assert link.read_bytes() == b"later"
    assert _files.save(run, "*.missing") == [], "an unmatched glob saves nothing"


def test_file_already_in_files_dir_is_only_recorded(tmp, work):
    run = FakeRun(tmp / "run")
    inside = Path(run.files_dir) / "notes.txt"
    inside.write_text("n")
    _files.save(run, str(inside), base_path=run.files_dir)
    assert inside.is_file() and not inside.is_symlink() and inside.read_text() == "n"
    assert file_records(tmp / "run") == [{"t": "file", "path": "notes.txt", "policy": "live"}]


def test_torn_tail_is_repaired_before_appending(tmp):
    log = tmp / "run.jsonl"
    log.write_bytes(b'{"t":"run","v":1,"log_id":"0123456789abcdef","run_id":"x"}\n{"t":"hist')
    _files.append_record(str(log), {"t": "file", "path": "a", "policy": "now"})
    lines = log.read_bytes().split(b"\n")
    assert lines[1] == b'{"t":"hist' and lines[2] == b'{"t":"file","path":"a","policy":"now"}'


def test_init_writes_process_record_and_run_save_works(tmp):
    run_script(
        tmp,
        """
import trackway
run = trackway.init(project="p")
open("weights.bin", "wb").write(b"w1")
run.save("weights.bin", policy="now")
trackway.save("later.txt")
trackway.finish()
""",
        name="train.py",
    )
    run_dir = only_run(tmp)
    records, _ = read_log(run_dir)
    proc = [r for r in records if r["t"] == "process"]
    assert len(proc) == 1
    p = proc[0]
    assert p["program"].endswith("train.py") and p["code_path"] == str(tmp / "train.py")
    assert p["cwd"] == str(tmp) and p["executable"] and p["python"].count(".") == 2
    assert any("site-packages" in d for d in p["site_packages"]) or p["site_packages"]
    assert (run_dir / "files" / "weights.bin").read_bytes() == b"w1"
    assert {"t": "file", "path": "weights.bin", "policy": "now"} in records
    assert {"t": "file", "path": "later.txt", "policy": "live"} in records
