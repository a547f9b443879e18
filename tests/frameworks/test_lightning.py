"""Lightning `WandbLogger`: metrics, hyperparameters, `watch`, DDP, and `log_model` checkpoints
as artifacts."""

import json
import time

import pytest

from conftest import find_run, history, run_script
from trackway.errors import CommError

SCRIPT = """
import json, torch
import lightning as L
from lightning.pytorch.loggers import WandbLogger

class Tiny(L.LightningModule):
    def __init__(self, lr=0.05, hidden=4):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.Linear(hidden, 1))
        self.losses = []
    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        self.losses.append(loss.item())
        return loss
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

torch.manual_seed(0)
ds = torch.utils.data.TensorDataset(torch.randn(16, 3), torch.randn(16, 1))
logger = WandbLogger(project="lightning", name="tiny")
model = Tiny()
logger.watch(model, log="all", log_freq=2)
trainer = L.Trainer(max_epochs=2, logger=logger, accelerator="cpu", log_every_n_steps=1,
                    enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False)
trainer.fit(model, torch.utils.data.DataLoader(ds, batch_size=4))
print(json.dumps({"id": logger.experiment.id, "losses": model.losses}))
"""


def test_wandb_logger_metrics_hyperparams_and_watch(tmp, online_env, api):
    done = run_script(tmp, SCRIPT, env=online_env, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "lightning", id=result["id"])
    assert run.name == "tiny"
    assert run.config["lr"] == pytest.approx(0.05) and run.config["hidden"] == 4
    rows = history(api, "/".join(run.path), keys=["train_loss"])
    assert [r["train_loss"] for r in rows] == [pytest.approx(v, rel=1e-6) for v in result["losses"]]
    steps = history(api, "/".join(run.path), keys=["train_loss", "trainer/global_step"])
    assert [r["trainer/global_step"] for r in steps] == list(range(len(result["losses"])))
    all_rows = history(api, "/".join(run.path))
    grads = [k for r in all_rows for k in r if k.startswith("gradients/net.0.weight")]
    params = [k for r in all_rows for k in r if k.startswith("parameters/net.0.weight")]
    assert grads and params, "watch(log='all') recorded no histograms"


DDP = """
import json, os, torch
import lightning as L
from lightning.pytorch.loggers import WandbLogger

class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.save_hyperparameters({"width": 3})
        self.net = torch.nn.Linear(3, 1)
        self.losses = []
    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        self.losses.append(loss.item())
        return loss
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

if __name__ == "__main__":
    torch.manual_seed(0)
    ds = torch.utils.data.TensorDataset(torch.randn(16, 3), torch.randn(16, 1))
    logger = WandbLogger(project="lightning-ddp", name="ddp")
    model = Tiny()
    trainer = L.Trainer(max_epochs=1, logger=logger, accelerator="cpu", devices=2,
                        strategy="ddp", log_every_n_steps=1, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, torch.utils.data.DataLoader(ds, batch_size=4))
    if trainer.global_rank == 0:
        print(json.dumps({"id": logger.experiment.id, "losses": model.losses}))
"""


def test_wandb_logger_two_process_cpu_ddp(tmp, online_env, api):
    done = run_script(tmp, DDP, env=online_env, timeout=300)
    result = json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])
    runs = list(api.runs("admin/lightning-ddp"))
    assert [r.id for r in runs] == [result["id"]], "rank 1 must not create a run"
    run = runs[0]
    assert run.config["width"] == 3
    rows = history(api, "/".join(run.path), keys=["train_loss", "trainer/global_step"])
    assert [r["train_loss"] for r in rows] == [pytest.approx(v, rel=1e-6) for v in result["losses"]]
    assert [r["trainer/global_step"] for r in rows] == [0, 1]  # 16 samples / 2 ranks / batch 4


CHECKPOINTS = """
import json, torch
import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(3, 1)
    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)

torch.manual_seed(0)
ds = torch.utils.data.TensorDataset(torch.randn(16, 3), torch.randn(16, 1))
logger = WandbLogger(project="lightning-ckpt", log_model="all")
ckpt = ModelCheckpoint(dirpath="ckpts", monitor="train_loss", save_top_k=1, every_n_epochs=1)
trainer = L.Trainer(max_epochs=3, logger=logger, accelerator="cpu", log_every_n_steps=1,
                    callbacks=[ckpt], enable_progress_bar=False, enable_model_summary=False)
trainer.fit(Tiny(), torch.utils.data.DataLoader(ds, batch_size=4))
print(json.dumps({"id": logger.experiment.id, "best": ckpt.best_model_path}))
"""

RESTORE = """
import json, sys, torch
from lightning.pytorch.loggers import WandbLogger
path = WandbLogger.download_artifact(sys.argv[1], save_dir="restored", artifact_type="model")
state = torch.load(path + "/model.ckpt", weights_only=False)
print(json.dumps({"path": path, "keys": sorted(state["state_dict"])}))
"""


def test_wandb_logger_log_model_checkpoints_as_artifacts(tmp, online_env, api):
    """`WandbLogger(log_model="all")`: every checkpoint becomes a version of `model-<run id>`
    (aliases `latest`/`best`, produced by the run), and `download_artifact` brings it back."""
    done = run_script(tmp, CHECKPOINTS, env=online_env, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    name = f"admin/lightning-ckpt/model-{result['id']}"
    latest = None
    for _ in range(150):  # the agent uploads after the script exits
        try:
            latest = api.artifact(f"{name}:latest", type="model")
            break
        except CommError:
            time.sleep(0.2)
    assert latest is not None and latest.logged_by().id == result["id"]
    assert "best" in api.artifact(f"{name}:best").aliases
    versions = api.artifact_versions("model", name)
    assert len(versions) >= 1 and {e.path for e in latest.files()} == {"model.ckpt"}
    restored = run_script(
        tmp, RESTORE.replace("sys.argv[1]", repr(f"{name}:best")), env=online_env, timeout=300
    )
    out = json.loads(restored.stdout.strip().splitlines()[-1])
    assert out["keys"] == ["net.bias", "net.weight"]
