"""Lightning `WandbLogger` (without `log_model`: that needs Artifacts, which Trackway lacks)."""

import json

import pytest

from conftest import find_run, history, run_script

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
