"""`wandb.integration.lightgbm` / `.xgboost` and `watch()` of a plain torch module."""

import json

import pytest

from conftest import find_run, history, run_script


def test_lightgbm_callback_and_summary(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        import numpy as np
        import lightgbm as lgb
        import wandb
        from wandb.integration.lightgbm import wandb_callback, log_summary
        run = wandb.init(project="gbm", name="lgb")
        rng = np.random.default_rng(0)
        x, y = rng.random((200, 4)), rng.random(200)
        train, valid = lgb.Dataset(x[:150], y[:150]), lgb.Dataset(x[150:], y[150:])
        evals = {}
        model = lgb.train({"objective": "regression", "metric": "l2", "verbose": -1,
                           "num_leaves": 4}, train, num_boost_round=5, valid_sets=[valid],
                          valid_names=["valid"],
                          callbacks=[wandb_callback(), lgb.record_evaluation(evals)])
        log_summary(model)
        wandb.finish()
        print(json.dumps({"id": run.id, "l2": evals["valid"]["l2"]}))
    """,
        env=online_env,
        timeout=180,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "gbm", id=result["id"])
    rows = history(api, "/".join(run.path), keys=["valid_l2"])
    assert [r["valid_l2"] for r in rows] == [pytest.approx(v) for v in result["l2"]]
    assert run.config["num_leaves"] == 4
    assert set(run.summary["feature_importance"]) == {f"Column_{i}" for i in range(4)}


def test_xgboost_callback(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        import numpy as np
        import xgboost as xgb
        import wandb
        from wandb.integration.xgboost import WandbCallback
        run = wandb.init(project="gbm", name="xgb")
        rng = np.random.default_rng(0)
        x, y = rng.random((200, 4)), rng.random(200)
        dtrain, dvalid = xgb.DMatrix(x[:150], y[:150]), xgb.DMatrix(x[150:], y[150:])
        evals = {}
        xgb.train({"max_depth": 2, "eval_metric": "rmse"}, dtrain, num_boost_round=4,
                  evals=[(dvalid, "valid")], evals_result=evals, callbacks=[WandbCallback()])
        wandb.finish()
        print(json.dumps({"id": run.id, "rmse": evals["valid"]["rmse"]}))
    """,
        env=online_env,
        timeout=180,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "gbm", id=result["id"])
    rows = history(api, "/".join(run.path), keys=["valid-rmse", "epoch"])
    assert [r["valid-rmse"] for r in rows] == [pytest.approx(v) for v in result["rmse"]]
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert "learner" in run.config
    assert run.summary["feature_importance"]


def test_watch_records_gradient_and_parameter_histograms(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json, torch
        import wandb
        run = wandb.init(project="watch", name="mlp")
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        wandb.watch(model, log="all", log_freq=2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        counts = []
        for step in range(4):
            loss = model(torch.randn(16, 4)).pow(2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
            counts.append(model[0].weight.grad.numel())
            wandb.log({"loss": loss.item()})
        wandb.unwatch(model)
        loss = model(torch.randn(16, 4)).pow(2).mean(); loss.backward()
        wandb.log({"loss": loss.item()})
        wandb.finish()
        print(json.dumps({"id": run.id}))
    """,
        env=online_env,
        timeout=180,
    )
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["id"]
    run = find_run(api, "watch", id=run_id)
    rows = history(api, "/".join(run.path))
    assert len(rows) == 5
    grad_steps = [r["_step"] for r in rows if "gradients/0.weight" in r]
    param_steps = [r["_step"] for r in rows if "parameters/0.weight" in r]
    assert grad_steps == [1, 3] and param_steps == [1, 3]  # every 2nd pass, none after unwatch
    h = rows[1]["gradients/0.weight"]
    assert h["_type"] == "histogram" and sum(h["values"]) == 32 and len(h["bins"]) == 65
    assert sum(rows[1]["parameters/2.bias"]["values"]) == 1
