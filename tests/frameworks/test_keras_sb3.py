"""Keras 3 (torch backend) callbacks and Stable-Baselines3's `WandbCallback`, from
`wandb.integration.keras` / `wandb.integration.sb3` (Trackway's modules under those paths)."""

import json

import pytest

from conftest import find_run, history, run_script


def test_keras_metrics_logger_and_checkpoint(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        import numpy as np
        import keras
        import wandb
        from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint
        run = wandb.init(project="keras", name="dense")
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", metrics=["mae"])
        x, y = np.random.rand(32, 4), np.random.rand(32, 1)
        h = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                      callbacks=[WandbMetricsLogger(log_freq=2),
                                 WandbModelCheckpoint("ckpt.keras", monitor="val_loss")])
        wandb.finish()
        print(json.dumps({"id": run.id, "history": h.history}))
    """,
        env=online_env,
        timeout=300,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "keras", id=result["id"])
    rows = history(api, "/".join(run.path), keys=["epoch/loss", "epoch/val_mae"])
    hist = result["history"]
    assert [r["epoch/loss"] for r in rows] == [pytest.approx(v, rel=1e-5) for v in hist["loss"]]
    assert [r["epoch/val_mae"] for r in rows] == [
        pytest.approx(v, rel=1e-5) for v in hist["val_mae"]
    ]
    epochs = history(api, "/".join(run.path), keys=["epoch/epoch", "epoch/learning_rate"])
    assert [r["epoch/epoch"] for r in epochs] == [0, 1, 2]
    assert epochs[0]["epoch/learning_rate"] == pytest.approx(0.01)
    batch_rows = history(api, "/".join(run.path), keys=["batch/loss", "batch/batch_step"])
    assert len(batch_rows) >= 3
    files = api._http.get(f"/api/v1/runs/admin/keras/{run.id}/files")
    listing = files.get("files") if isinstance(files, dict) else files
    assert "ckpt.keras" in [f.get("path") or f.get("name") for f in listing]


def test_sb3_callback_with_sync_tensorboard(tmp, online_env, api):
    done = run_script(
        tmp,
        """
        import json
        import wandb
        from stable_baselines3 import PPO
        from wandb.integration.sb3 import WandbCallback
        run = wandb.init(project="sb3", name="ppo", sync_tensorboard=True)
        model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, n_epochs=2, seed=0,
                    tensorboard_log="tb", device="cpu", verbose=0)
        model.learn(total_timesteps=128, callback=WandbCallback(gradient_save_freq=8,
                                                                model_save_path="models"))
        wandb.finish()
        print(json.dumps({"id": run.id}))
    """,
        env=online_env,
        timeout=300,
    )
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["id"]
    run = find_run(api, "sb3", id=run_id)
    assert run.config["algo"] == "PPO"
    assert run.config["n_steps"] == 64
    rows = history(api, "/".join(run.path))
    keys = {k for r in rows for k in r}
    assert "train/loss" in keys and "time/fps" in keys and "global_step" in keys
    assert any(k.startswith("gradients/") for k in keys)
    steps = [r["global_step"] for r in rows if "train/loss" in r]
    assert steps == sorted(steps) and steps[-1] == 128
    files = api._http.get(f"/api/v1/runs/admin/sb3/{run_id}/files")
    listing = files.get("files") if isinstance(files, dict) else files
    assert "model.zip" in [f.get("path") or f.get("name") for f in listing]
