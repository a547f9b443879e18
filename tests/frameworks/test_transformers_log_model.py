"""Hugging Face `Trainer` with `WANDB_LOG_MODEL=checkpoint`: every saved checkpoint becomes a
version of the run's model artifact (wandb's `WandbCallback.on_save`, aliases
`checkpoint_global_step_N` / `epoch_E`), besides the untrained model at setup (`base_model`) and
the final model (`final_model`); each is produced by the run and downloads byte for byte."""

import hashlib
import json
import time
from pathlib import Path

from conftest import run_script
from trackway.errors import CommError

SCRIPT = """
import json, torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=64, n_positions=16))
data = [{"input_ids": torch.randint(0, 64, (8,)), "labels": torch.randint(0, 64, (8,))}
        for _ in range(16)]
args = TrainingArguments(output_dir="out", max_steps=6, logging_steps=2, report_to="wandb",
                         per_device_train_batch_size=4, save_strategy="steps", save_steps=3,
                         use_cpu=True, learning_rate=1e-3, run_name="hf-ckpt", disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=data)
trainer.train()
import wandb
run_id = wandb.run.id
wandb.finish()
print(json.dumps({"id": run_id}))
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wandb_log_model_checkpoint_logs_every_checkpoint(tmp, online_env, api):
    online_env["WANDB_PROJECT"] = "hf-ckpt"
    online_env["WANDB_LOG_MODEL"] = "checkpoint"
    done = run_script(tmp, SCRIPT, env=online_env, timeout=300)
    run_id = json.loads(done.stdout.strip().splitlines()[-1])["id"]
    name = "admin/hf-ckpt/model-hf-ckpt"
    versions = []
    for _ in range(300):  # the agent uploads after the script exits
        try:
            versions = api.artifact_versions("model", name)
            if len(versions) == 4:
                break
        except CommError:
            pass
        time.sleep(0.2)
    # The untrained model at setup (`base_model`), the checkpoints at steps 3 and 6, the final model.
    assert sorted(v.version for v in versions) == ["v0", "v1", "v2", "v3"]
    owner = {a: v.version for v in versions for a in v.aliases}
    wanted = ["base_model", "checkpoint_global_step_3", "checkpoint_global_step_6", "final_model"]
    assert len({owner.get(a) for a in wanted} - {None}) == 4, owner
    assert owner["latest"] == owner["final_model"]
    step6 = api.artifact(f"{name}:checkpoint_global_step_6", type="model")
    assert step6.logged_by().id == run_id
    assert step6.metadata["model/num_parameters"] > 0
    ckpt = tmp / "out" / "checkpoint-6"
    assert {e.path for e in step6.files()} == {p.name for p in ckpt.iterdir() if p.is_file()}
    root = Path(step6.download(root=str(tmp / "restored")))
    for f in ckpt.iterdir():
        if f.is_file():
            assert sha(root / f.name) == sha(f), f.name
    final = api.artifact(f"{name}:final_model")
    assert final.metadata["final_model"] is True
    assert "model.safetensors" in {e.path for e in final.files()}
