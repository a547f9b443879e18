"""Hugging Face Transformers `Trainer(report_to="wandb")` on a tiny GPT-2 built in the test."""

import json

import pytest

from conftest import find_run, history, run_script

SCRIPT = """
import json, torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=64, n_positions=16))
data = [{"input_ids": torch.randint(0, 64, (8,)), "labels": torch.randint(0, 64, (8,))}
        for _ in range(16)]
args = TrainingArguments(output_dir="out", max_steps=6, logging_steps=2, report_to="wandb",
                         per_device_train_batch_size=4, save_strategy="no", use_cpu=True,
                         learning_rate=1e-3, run_name="hf-tiny", disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=data)
trainer.train()
import wandb
run_id = wandb.run.id
wandb.finish()
print(json.dumps({"id": run_id, "log": trainer.state.log_history}))
"""


def test_trainer_logs_through_wandb_callback(tmp, online_env, api):
    online_env["WANDB_PROJECT"] = "hf"
    online_env["WANDB_LOG_MODEL"] = "false"
    done = run_script(tmp, SCRIPT, env=online_env, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = find_run(api, "hf", id=result["id"])
    assert run.name == "hf-tiny"
    assert run.config["learning_rate"] == pytest.approx(1e-3)
    assert run.config["model_type"] == "gpt2"
    assert run.config["model/num_parameters"] > 0
    expected = [e for e in result["log"] if "loss" in e]
    rows = history(api, "/".join(run.path), keys=["train/loss"])
    assert [r["train/loss"] for r in rows] == [pytest.approx(e["loss"]) for e in expected]
    steps = history(api, "/".join(run.path), keys=["train/loss", "train/global_step"])
    assert [r["train/global_step"] for r in steps] == [e["step"] for e in expected]
    final = result["log"][-1]  # the end-of-training scalars go to the summary unprefixed
    assert run.summary["train_runtime"] == pytest.approx(final["train_runtime"])
    assert run.summary["train_loss"] == pytest.approx(final["train_loss"])
