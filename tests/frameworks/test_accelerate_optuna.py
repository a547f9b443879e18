"""accelerate's wandb tracker and Optuna's `WeightsAndBiasesCallback`."""

import json

import pytest

from conftest import find_run, history, run_script


def test_accelerate_tracker(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        from accelerate import Accelerator
        acc = Accelerator(log_with="wandb", cpu=True)
        acc.init_trackers("accel", config={"lr": 0.1, "epochs": 3},
                          init_kwargs={"wandb": {"name": "acc-run"}})
        for step in range(5):
            acc.log({"loss": 1.0 / (step + 1), "epoch": step // 2}, step=step)
        run_id = acc.get_tracker("wandb").run.id
        acc.end_training()
        print(json.dumps({"id": run_id}))
    """,
        env=online_env,
        timeout=180,
    )
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["id"]
    run = find_run(api, "accel", id=run_id)
    assert run.name == "acc-run"
    assert run.config == {"lr": 0.1, "epochs": 3} or (
        run.config["lr"] == 0.1 and run.config["epochs"] == 3
    )
    rows = history(api, "/".join(run.path), keys=["loss", "epoch"])
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["loss"] for r in rows] == [pytest.approx(1.0 / (s + 1)) for s in range(5)]
    assert [r["epoch"] for r in rows] == [0, 0, 1, 1, 2]


def test_optuna_callback(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        import optuna
        from optuna_integration.wandb import WeightsAndBiasesCallback
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cb = WeightsAndBiasesCallback(metric_name="score", wandb_kwargs={"project": "optuna"})
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2, n_trials=4,
                       callbacks=[cb])
        import wandb
        run_id = wandb.run.id
        wandb.finish()
        print(json.dumps({"id": run_id, "trials": [[t.number, t.params["x"], t.value]
                                                   for t in study.trials]}))
    """,
        env=online_env,
        timeout=180,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "optuna", id=result["id"])
    rows = history(api, "/".join(run.path), keys=["x", "score"])
    assert [(r["_step"], r["x"], r["score"]) for r in rows] == [
        (n, pytest.approx(x), pytest.approx(v)) for n, x, v in result["trials"]
    ]
    assert run.config["direction"] == ["MINIMIZE"]
