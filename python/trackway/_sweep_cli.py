"""`trackway sweep CONFIG.yaml` and `trackway agent SWEEP_ID`: the command-line agent runs each
trial's `command` as a subprocess (wandb's macros: ${env} ${interpreter} ${program} ${args}
${args_no_hyphens} ${args_json} ${args_json_file}), reports to the controller, and signals a
trial the controller stops (hyperband, cancel)."""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from . import _sweep, _term
from .errors import Error


def main(args) -> int:
    try:
        return _sweep_main(args) if args[0] == "sweep" else _agent_main(args[1:])
    except (Error, OSError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 1


def _sweep_main(args) -> int:
    p = argparse.ArgumentParser(
        prog="trackway sweep", description="Create a sweep from a YAML config"
    )
    p.add_argument("config")
    p.add_argument("--project")
    p.add_argument("--entity")
    p.add_argument("--name")
    ns = p.parse_args(args[1:])
    cfg = _sweep._load_config(ns.config)
    if ns.name:
        cfg["name"] = ns.name
    sid = _sweep.sweep(cfg, entity=ns.entity, project=ns.project)
    entity, project = _sweep._known[sid]
    sys.stdout.write(f"{entity}/{project}/{sid}\n")
    sys.stderr.write(f"run an agent: trackway agent {entity}/{project}/{sid}\n")
    return 0


def _flat_args(params: dict, hyphens: bool):
    out = []
    for k, v in params.items():
        text = v if isinstance(v, str) else json.dumps(v)
        out.append(f"--{k}={text}" if hyphens else f"{k}={text}")
    return out


def build_command(command, program, params, json_file):
    """The trial's argv: each macro expands to zero or more arguments."""
    macros = {
        "${env}": ["/usr/bin/env"] if os.name != "nt" else [],
        "${interpreter}": [sys.executable or "python"],
        "${program}": [program] if program else [],
        "${args}": _flat_args(params, True),
        "${args_no_hyphens}": _flat_args(params, False),
        "${args_json}": [json.dumps(params)],
        "${args_json_file}": [json_file],
    }
    argv = []
    for part in command:
        if part in macros:
            argv.extend(macros[part])
        else:
            argv.append(part.replace("${program}", program or ""))
    return argv


class Trial:
    """One subprocess trial."""

    def __init__(self, trial, claim, entity, project, sid, workdir):
        self.run_id = trial["run_id"]
        params = trial["config"]
        pfile = os.path.join(workdir, f"{self.run_id}-params.json")
        with open(pfile, "w", encoding="utf-8") as f:  # wandb's format: {key: {value: v}}
            json.dump({k: {"value": v} for k, v in params.items()}, f)
        jfile = os.path.join(workdir, f"{self.run_id}-args.json")
        with open(jfile, "w", encoding="utf-8") as f:
            json.dump(params, f)
        env = dict(os.environ)
        for prefix in ("TRACKWAY_", "WANDB_"):
            env[prefix + "SWEEP_ID"] = sid
            env[prefix + "RUN_ID"] = self.run_id
            env[prefix + "PROJECT"] = project
            env[prefix + "SWEEP_PARAM_PATH"] = pfile
            if entity:
                env[prefix + "ENTITY"] = entity
        argv = build_command(claim.get("command") or [], claim.get("program"), params, jfile)
        _term.termlog(f"trial {self.run_id}: {' '.join(argv)}")
        self.proc = subprocess.Popen(argv, env=env)
        self.stop_sent = None

    def stop(self):
        if self.stop_sent is None:
            _term.termlog(f"trial {self.run_id}: stopped by the controller")
            self.proc.send_signal(signal.SIGTERM)
            self.stop_sent = time.monotonic()
        elif time.monotonic() - self.stop_sent > _kill_delay():
            self.proc.kill()


def _kill_delay() -> float:
    from .apis._http import env

    try:
        return float(env("AGENT_KILL_DELAY") or 30)
    except ValueError:
        return 30.0


def _run_trial(client, trial):
    """Waits for the trial, heartbeating; returns its end state for the controller."""
    while True:
        try:
            rc = trial.proc.wait(timeout=_sweep._interval())
            break
        except subprocess.TimeoutExpired:
            pass
        out = client.heartbeat([trial.run_id])
        if trial.run_id in out.get("stop", []):
            trial.stop()
    state = "finished" if rc == 0 else "failed"
    client.heartbeat([], [(trial.run_id, state)])
    return state


def _agent_main(args) -> int:
    p = argparse.ArgumentParser(prog="trackway agent", description="Run trials of a sweep")
    p.add_argument("sweep_id", help="ENTITY/PROJECT/SWEEP_ID, PROJECT/SWEEP_ID or SWEEP_ID")
    p.add_argument("--project")
    p.add_argument("--entity")
    p.add_argument("--count", type=int)
    ns = p.parse_args(args)
    _sweep._refuse_offline("trackway agent")
    entity, project, sid = _sweep.resolve_path(ns.sweep_id, ns.entity, ns.project)
    client = _sweep.Client(entity, project, sid)
    with tempfile.TemporaryDirectory(prefix="trackway-agent-") as workdir:

        def run_one(trial, claim):
            _run_trial(client, Trial(trial, claim, entity, project, sid, workdir))

        _sweep._poll(client, ns.count, run_one)
    return 0
