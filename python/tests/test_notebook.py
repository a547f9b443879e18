"""Notebooks, executed headless with nbclient in a real IPython kernel (ipykernel).

- online: init() shows a panel (link + the run page embedded), prints in cells are captured
  through ipykernel's streams, `run` as a cell's last expression renders `_repr_html_`, and
  finish() in a cell redraws the first panel as finished with the summary; the server has it.
- offline and silent (`%env TRACKWAY_SILENT true`): no panel and no trackway text, console still
  captured; running the init() cell again finishes the run and starts a new one (wandb's
  notebook default), and a run never finished in the notebook is finished at kernel shutdown.
"""

import json
import signal

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import (
    PYDIR,
    Server,
    clean_env,
    final_summary,
    only_run,
    read_log,
    rows,
    run_dirs,
)
from trackway.apis import Api


def execute(tmp, cells, env) -> list:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    client = NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp)}}
    )
    client.execute(env=env)  # starts the kernel, runs every cell, shuts the kernel down
    return [cell.outputs for cell in nb.cells]


def html_of(outputs) -> list:
    return [
        o["data"]["text/html"]
        for o in outputs
        if o["output_type"] in ("display_data", "execute_result")
        and "text/html" in o.get("data", {})
    ]


def text_of(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


@pytest.fixture
def server(tmp):
    s = Server(tmp).start()
    yield s
    s.stop(signal.SIGKILL)


def test_online_panel_capture_and_finish_in_a_cell(server, tmp):
    env = clean_env(
        tmp,
        TRACKWAY_MODE="online",
        TRACKWAY_BASE_URL=server.url,
        TRACKWAY_API_KEY=server.key,
        TRACKWAY_CONFIG_DIR=str(server.config),
        TRACKWAY_AGENT_IDLE_SECONDS="2",
    )
    env["PYTHONPATH"] = str(PYDIR)
    outs = execute(
        tmp,
        [
            "import trackway\nrun = trackway.init(project='nb')",
            "for i in range(3):\n    trackway.log({'loss': i})\nprint('hello from the cell')",
            "run",
            "trackway.finish()",
        ],
        env,
    )
    run_dir = only_run(tmp)
    records, _ = read_log(run_dir)
    run_id = next(r["run_id"] for r in records if r["t"] == "run")
    url = f"{server.url}/admin/nb/runs/{run_id}"

    (panel,) = html_of(outs[0])  # the panel init() showed, redrawn by finish()
    assert f'<a href="{url}"' in panel and 'data-state="finished"' in panel
    assert "<td>loss</td><td>2</td>" in panel
    (shown,) = html_of(outs[2])  # _repr_html_ while running: the live run page embedded
    assert 'data-state="running"' in shown and f'<iframe src="{url}"' in shown
    assert "hello from the cell" in text_of(outs[1])

    assert "hello from the cell" in (run_dir / "files" / "output.log").read_text()
    assert [r["loss"] for r in rows(records)] == [0, 1, 2]
    assert records[-1]["t"] == "finish" and records[-1]["exit_code"] == 0
    api = Api(base_url=server.url, api_key=server.key, timeout=30)
    assert [r["loss"] for r in api.run(f"admin/nb/{run_id}").scan_history()] == [0, 1, 2]


def test_silent_offline_notebook_reinit_and_kernel_shutdown(tmp):
    env = clean_env(tmp)  # offline
    init = "import trackway\nrun = trackway.init(project='nb2')\nprint('captured line')"
    outs = execute(
        tmp,
        [
            "%env TRACKWAY_SILENT true",
            init,
            "trackway.log({'a': 1})\ntrackway.summary['b'] = 2",
            init,  # the init() cell run again: a new run, the first one finished (wandb's default)
            "trackway.log({'a': 2})",
        ],
        env,
    )
    everything = json.dumps(outs)
    assert "trackway-run" not in everything and "trackway:" not in everything
    assert "captured line" in text_of(outs[1])
    logs = {}  # both runs may start within one second: tell them apart by what they logged
    for run_dir in run_dirs(tmp):
        records, corrupt = read_log(run_dir)
        assert corrupt == []
        # The second run was never finished in the notebook: kernel shutdown finished it.
        assert records[-1]["t"] == "finish" and records[-1]["exit_code"] == 0
        assert "captured line" in (run_dir / "files" / "output.log").read_text()
        (row,) = rows(records)
        logs[row["a"]] = records
    assert sorted(logs) == [1, 2]
    assert final_summary(logs[1])["b"] == 2 and "b" not in final_summary(logs[2])
