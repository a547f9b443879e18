"""Installing Trackway the ways the README offers, each into a clean virtualenv.

- the wheel (`maturin build`, the same command as `make wheel`), installed with no Rust on PATH;
- `pip install .` of this checkout (maturin builds it, reusing the cargo target dir);
- `pip install git+file://...` of this checkout's tracked files (a clone has no `web/dist`: the
  build backend builds the web UI with npm) and an sdist (which carries the built UI);
- a source install with no Rust on PATH, which must fail at install time and leave nothing;
- the `wandb` compatibility distribution (compat/wandb) on top of the wheel: the import-path
  and class-identity table; and its refusal to replace a real `wandb`.

Each installed package then runs an online script against a real server started with the
installed `trackway server` command, and the run is read back. Installs are offline: pip gets
the build backend and dependencies from the wheelhouse `make setup` downloads into the venv.
The wheel is built once per session.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, Server

WHEELHOUSE = Path(os.environ.get("TRACKWAY_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))
NO_RUST_PATH = os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"])


def base_env(path: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRACKWAY_", "WANDB_", "PYTHON", "VIRTUAL_ENV", "PIP_"))
    }
    env["PATH"] = path
    return env


def no_rust_env(venv: Path) -> dict:
    env = base_env(os.pathsep.join([str(venv / "bin"), NO_RUST_PATH]))
    for k in (
        "CARGO",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTC",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
    ):
        env.pop(k, None)
    assert shutil.which("cargo", path=env["PATH"]) is None, "cargo must not be on the test PATH"
    return env


def make_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    return where


def venv_python(venv: Path, code: str, *, env: dict, cwd=None, check: bool = False):
    """Runs `code` with the venv's own interpreter (never the test's)."""
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def pip_install(venv: Path, *targets, env: dict, check: bool = True):
    done = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(WHEELHOUSE),
            *map(str, targets),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"pip install failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    if not any(WHEELHOUSE.glob("maturin-*.whl")):
        raise AssertionError(f"no wheelhouse at {WHEELHOUSE}: run `make setup`")
    out = tmp_path_factory.mktemp("dist")
    # `-i` this interpreter, as `maturin develop` in `make build` uses: the same PyO3 build
    # configuration, so cargo reuses the extension it already built.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "maturin",
            "build",
            "--release",
            "--quiet",
            "-i",
            sys.executable,
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=1800,
    )
    (built,) = out.glob("trackway-*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_venv(wheel, tmp_path_factory) -> Path:
    venv = make_venv(tmp_path_factory.mktemp("wheel") / "venv")
    pip_install(venv, wheel, env=no_rust_env(venv))
    return venv


ONLINE = """
    import sys
    import trackway
    run = trackway.init(project="install", config={"lr": 0.5})
    for i in range(5):
        trackway.log({"loss": 1.0 / (i + 1)})
    run.summary["done"] = True
    trackway.finish()
    print("RUN", run.id)
"""


FALLBACK_PAGE = "This build does not include the web UI"


def assert_serves_web_ui(url: str) -> None:
    """The server embeds the built UI (crates/trackway-server/src/ui.rs), not its fallback page:
    `/` is Vite's index.html, and the script it loads is served."""
    page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
    assert FALLBACK_PAGE not in page, "the server shows its built-in page, not the web UI"
    assert '<div id="app">' in page, page[:500]
    scripts = re.findall(r'<script[^>]+src="(/assets/[^"]+\.js)"', page)
    assert scripts, page[:500]
    with urllib.request.urlopen(url + scripts[0], timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith(
            ("text/javascript", "application/javascript")
        )
        assert len(resp.read()) > 10_000


def online_roundtrip(venv: Path, tmp: Path) -> None:
    """`trackway server` from the venv (serving the web UI), an online script in the venv (its
    agent uploads), then the venv's own `trackway.Api` reads the run back."""
    server = Server(tmp, command=[str(venv / "bin" / "trackway")]).start()
    try:
        assert_serves_web_ui(server.url)
        work = tmp / "work"
        work.mkdir()
        env = no_rust_env(venv)
        env.update(
            HOME=str(tmp / "home"),
            TRACKWAY_CONFIG_DIR=str(server.config),
            TRACKWAY_BASE_URL=server.url,
            TRACKWAY_API_KEY=server.key,
            TRACKWAY_MODE="online",
            TRACKWAY_AGENT_IDLE_SECONDS="2",
        )
        (work / "train.py").write_text(textwrap.dedent(ONLINE))
        done = subprocess.run(
            [str(venv / "bin" / "python"), "train.py"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        run_id = done.stdout.split("RUN ", 1)[1].strip()
        read = textwrap.dedent(f"""
            import json, time, trackway
            api = trackway.Api(base_url={server.url!r}, api_key={server.key!r}, timeout=30)
            deadline = time.time() + 30
            while True:
                run = api.run("admin/install/{run_id}")
                rows = list(run.scan_history())
                if len(rows) == 5 or time.time() > deadline:
                    break
                time.sleep(0.2)
            print(json.dumps({{"loss": [r["loss"] for r in rows], "lr": run.config.get("lr"),
                              "done": run.summary.get("done")}}))
        """)
        got = venv_python(venv, read, cwd=work, env=env)
        assert got.returncode == 0, got.stderr
        data = json.loads(got.stdout.strip().splitlines()[-1])
        assert data == {"loss": [1.0, 0.5, 1 / 3, 0.25, 0.2], "lr": 0.5, "done": True}
    finally:
        server.stop()
        stop_agents(tmp)


def stop_agents(tmp: Path) -> None:
    for lock in tmp.rglob("agent.lock"):
        try:
            pid = int(lock.read_text().strip() or 0)
            if pid and b"agent" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, 9)
        except (OSError, ValueError):
            pass


def versions(venv: Path) -> tuple:
    env = no_rust_env(venv)
    cli = subprocess.run(
        [str(venv / "bin" / "trackway"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    code = "import trackway, importlib.metadata as m; print(trackway.__version__, m.version('trackway'))"
    mod = venv_python(venv, code, env=env, check=True).stdout.split()
    return cli, mod


def test_wheel_is_abi3_and_tagged(wheel):
    name = wheel.name
    assert "-cp39-abi3-" in name, name
    assert "manylinux" in name, f"no manylinux tag: {name}"


def test_wheel_without_rust_gives_command_version_and_online_mode(wheel_venv, tmp_path):
    cli, (version, dist_version) = versions(wheel_venv)
    assert cli == ["trackway", version] and dist_version == version
    online_roundtrip(wheel_venv, tmp_path)


def test_pip_install_dot_gives_command_and_online_mode(tmp_path):
    venv = make_venv(tmp_path / "venv")
    # maturin builds for the interpreter it runs under; pointed at the test interpreter (same
    # Python, abi3 either way) cargo reuses `make build`'s extension instead of rebuilding PyO3.
    env = dict(base_env(os.environ["PATH"]), MATURIN_PEP517_ARGS=f"-i {sys.executable}")
    pip_install(venv, REPO, env=env)
    cli, (version, _) = versions(venv)
    assert cli == ["trackway", version]
    online_roundtrip(venv, tmp_path)


def test_source_install_without_rust_fails_at_install_time(tmp_path):
    """No cargo and no network: maturin either cannot fetch its Rust installer (puccinialin) or,
    with MATURIN_NO_INSTALL_RUST, says Rust is missing. Either way pip fails, nothing lands."""
    venv = make_venv(tmp_path / "venv")
    for extra, needle in (
        ({}, "puccinialin"),
        ({"MATURIN_NO_INSTALL_RUST": "1"}, "cargo, the rust package manager"),
    ):
        env = dict(no_rust_env(venv), **extra)
        done = pip_install(venv, REPO, env=env, check=False)
        assert done.returncode != 0
        out = (done.stdout + done.stderr).lower()
        assert needle in out, out[-3000:]
    assert not (venv / "bin" / "trackway").exists()
    probe = venv_python(venv, "import trackway", env=no_rust_env(venv))
    assert probe.returncode != 0


IDENTITY = r"""
import importlib, importlib.metadata, json, pkgutil, sys
import wandb
import trackway

fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

check(hasattr(wandb, "run") and wandb.run is None, "wandb.run before init")
check(importlib.metadata.version("wandb") == wandb.__version__, "dist version == __version__")
check(wandb.__version__.endswith("+trackway"), "local label")
# The paths frameworks import (wandb-api-surface.md, section 0) ...
paths = ["sdk", "sdk.wandb_run", "sdk.lib", "sdk.lib.config_util", "sdk.lib.printer", "apis",
         "apis.public", "util", "env", "errors", "wandb_run"]
# ... and, generically, every module trackway has (media, plot, integration.* included).
for info in pkgutil.walk_packages(trackway.__path__, onerror=lambda name: None):
    if not info.name.startswith("_") and info.name not in paths:
        paths.append(info.name)
for sub in paths:
    try:
        real = importlib.import_module("trackway." + sub)
    except ImportError as e:  # an integration whose framework is not installed
        try:
            importlib.import_module("wandb." + sub)
            fails.append(f"wandb.{sub} imported while trackway.{sub} fails ({e})")
        except ImportError:
            pass
        continue
    alias = importlib.import_module("wandb." + sub)
    check(alias is real, f"wandb.{sub} is trackway.{sub}")
    check(sys.modules["wandb." + sub] is real, f"sys.modules wandb.{sub}")
    check(real.__name__ == "trackway." + sub and real.__spec__.name == real.__name__,
          f"trackway.{sub} keeps its own name and spec")
from wandb.sdk.wandb_run import Run
from wandb.wandb_run import Run as Run2
from wandb.sdk.lib import RunDisabled
from wandb.sdk.lib.config_util import ConfigError
check(Run is Run2 is wandb.Run is trackway.Run, "one Run class")
check(wandb.Error is wandb.errors.Error is trackway.Error, "one Error class")
check(wandb.errors.UsageError is trackway.errors.UsageError, "UsageError")
check(wandb.errors.CommError is trackway.errors.CommError, "CommError")
check(isinstance(RunDisabled, type) and ConfigError is trackway.sdk.lib.config_util.ConfigError,
      "RunDisabled/ConfigError")
run = wandb.init(project="compat", mode="offline")
check(isinstance(run, wandb.sdk.wandb_run.Run), "isinstance(run, wandb.sdk.wandb_run.Run)")
check(wandb.run is run is trackway.run, "wandb.run follows init()")
wandb.log({"x": 1})
check(wandb.summary["x"] == 1, "wandb.summary is the run's")
wandb.finish()
check(wandb.run is None, "wandb.run after finish")
wandb.some_flag = 1
check(trackway.some_flag == 1, "setattr goes to trackway")
try:
    import wandb.no_such_module
    fails.append("wandb.no_such_module imported")
except ModuleNotFoundError:
    pass
print(json.dumps({"fails": fails, "checked": len(paths)}))
"""


def test_compat_wandb_is_trackway(wheel, tmp_path):
    venv = make_venv(tmp_path / "venv")
    env = no_rust_env(venv)
    pip_install(venv, wheel, REPO / "compat" / "wandb", env=env)
    env["HOME"] = str(tmp_path)
    done = venv_python(venv, IDENTITY, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["fails"] == [] and result["checked"] >= 11, result


def test_compat_refuses_to_replace_real_wandb(tmp_path):
    venv = make_venv(tmp_path / "venv")
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # What a real wandb install leaves behind, as far as metadata goes.
    info = site / "wandb-0.31.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wandb\nVersion: 0.31.0\n")
    (info / "RECORD").write_text("")
    (site / "wandb").mkdir()
    (site / "wandb" / "__init__.py").write_text("REAL = True\n")
    done = pip_install(
        venv, "--no-deps", REPO / "compat" / "wandb", env=no_rust_env(venv), check=False
    )
    assert done.returncode != 0
    assert "the real wandb 0.31.0 is installed" in done.stdout + done.stderr
    assert (site / "wandb" / "__init__.py").read_text() == "REAL = True\n"
    assert info.is_dir()


def git(*args: str, cwd: Path = REPO, env: "dict[str, str] | None" = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}"
    return done.stdout.strip()


def snapshot_commit(tmp: Path) -> str:
    """A commit of the tracked files as they are now, made through a private index so that the
    checkout's own index is never locked or written (a `git status` running elsewhere, e.g. an
    agent capturing this repository's diff, would make `git stash create` fail on index.lock)."""
    env = dict(
        os.environ,
        GIT_INDEX_FILE=str(tmp / "snapshot.index"),
        GIT_AUTHOR_NAME="trackway tests",
        GIT_AUTHOR_EMAIL="tests@trackway.invalid",
        GIT_COMMITTER_NAME="trackway tests",
        GIT_COMMITTER_EMAIL="tests@trackway.invalid",
    )
    git("read-tree", "HEAD", env=env)
    git("add", "--update", ".", env=env)
    tree = git("write-tree", env=env)
    return git("commit-tree", tree, "-p", "HEAD", "-m", "snapshot", env=env)


def tracked_tree_url(tmp: Path) -> str:
    """A `git+file://` URL of this checkout's tracked files as they are now (`snapshot_commit`),
    served by a bare repository that borrows this one's objects (alternates: nothing copied) as
    its default branch. A fresh clone of it has no `web/dist`, like any git checkout."""
    commit = snapshot_commit(tmp)
    objects = (REPO / git("rev-parse", "--git-path", "objects")).resolve()
    bare = tmp / "src.git"
    git("init", "--quiet", "--bare", str(bare), cwd=tmp)
    (bare / "objects" / "info" / "alternates").write_text(f"{objects}\n")
    git("update-ref", "refs/heads/main", commit, cwd=bare)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    return f"git+file://{bare}"


def test_git_url_install_builds_the_web_ui_and_runs_online(tmp_path):
    """`pip install git+URL`: pip clones (no web/dist), the build backend builds the UI with
    npm (from npm's cache when `make setup` filled it), maturin compiles (the cargo target dir
    is reused, as for `pip install .`), and the installed server serves the real UI."""
    venv = make_venv(tmp_path / "venv")
    env = dict(base_env(os.environ["PATH"]), MATURIN_PEP517_ARGS=f"-i {sys.executable}")
    assert shutil.which("npm", path=env["PATH"]), "npm is needed to build the UI of a checkout"
    pip_install(venv, tracked_tree_url(tmp_path), env=env)
    cli, (version, _) = versions(venv)
    assert cli == ["trackway", version]
    online_roundtrip(venv, tmp_path)


def build_sdist(out: Path) -> Path:
    """The sdist through the build backend's PEP 517 hook (what `python -m build --sdist` and
    pip call), with this venv's `maturin` on PATH."""
    env = base_env(os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    hook = (
        f"import sys; sys.path.insert(0, {str(REPO / 'build_backend')!r}); "
        f"import trackway_build; print(trackway_build.build_sdist({str(out)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("trackway-*.tar.gz")
    return sdist


def test_sdist_carries_the_built_web_ui_and_installs_without_web_sources(tmp_path):
    """The sdist holds web/dist (index.html and every asset it loads) and the build backend,
    not the web sources: so its install, which succeeds, cannot have built the UI itself."""
    sdist = build_sdist(tmp_path / "sdist")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        (index,) = [m for m in tar.getmembers() if m.name.endswith("/web/dist/index.html")]
        page = tar.extractfile(index).read().decode()
    assert {"pyproject.toml", "build_backend/trackway_build.py"} <= names
    assert "web/package.json" not in names
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', page)
    assert assets and all(f"web/dist/{a}" in names for a in assets), (assets, sorted(names)[:50])
    venv = make_venv(tmp_path / "venv")
    env = dict(base_env(os.environ["PATH"]), MATURIN_PEP517_ARGS=f"-i {sys.executable}")
    pip_install(venv, sdist, env=env)
    online_roundtrip(venv, tmp_path)


def test_build_backend_without_a_ui_or_npm_fails_at_install_time_naming_the_ways_out(tmp_path):
    """A checkout with no built UI and no npm: the backend stops before compiling, saying how
    to get the UI; `TRACKWAY_WEB_UI=skip` builds without it, but never an sdist."""
    tree = tmp_path / "src"
    (tree / "build_backend").mkdir(parents=True)
    shutil.copy(REPO / "build_backend" / "trackway_build.py", tree / "build_backend")
    (tree / "web" / "dist").mkdir(parents=True)
    (tree / "web" / "package.json").write_text("{}")
    (tmp_path / "bin").mkdir()

    def ensure(may_skip: bool, **extra):
        code = (
            "import sys; sys.path.insert(0, 'build_backend'); import trackway_build; "
            f"trackway_build.ensure_web_ui(may_skip={may_skip})"
        )
        env = dict(base_env(str(tmp_path / "bin")), **extra)  # a PATH with no npm on it
        return subprocess.run(
            [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True
        )

    done = ensure(True)
    assert done.returncode != 0
    assert "WebUIError" in done.stderr and "npm (Node.js 20 or newer) is not on PATH" in done.stderr
    assert "TRACKWAY_WEB_UI=skip" in done.stderr and "wheel or an sdist" in done.stderr
    skipped = ensure(True, TRACKWAY_WEB_UI="skip")
    assert skipped.returncode == 0 and "building without the web UI" in skipped.stdout
    assert ensure(False, TRACKWAY_WEB_UI="skip").returncode != 0
    (tree / "web" / "package.json").unlink()
    assert "has no web/ sources" in ensure(True).stderr
