"""Ultralytics YOLO through `wandb`: its own callback (`settings wandb=True`: config, per-epoch
metrics, the best weights as an artifact) and `wandb.integration.ultralytics.add_wandb_callback`
(prediction tables with box overlays, per-epoch checkpoints). A tiny detector built from the
package's yaml (no weights downloaded) trains 2 epochs on 64-px synthetic images on the CPU."""

import time

from conftest import find_run, history, run_script
from trackway.errors import CommError

YOLO_SCRIPT = """
import numpy as np
from PIL import Image
from pathlib import Path
from ultralytics import YOLO, settings
import wandb
from wandb.integration.ultralytics import add_wandb_callback

# Only the wandb logger (MLflow's would log too, as mlflow is installed here).
settings.update({k: k == "wandb" for k in ("wandb", "mlflow", "tensorboard", "clearml", "comet", "dvc")})
# Its outputs go under the script's directory, never the repository Ultralytics may detect.
settings.update({"runs_dir": str(Path("runs").resolve())})
rng = np.random.default_rng(0)
root = Path("data")
for split, n in (("train", 8), ("val", 4)):
    (root / "images" / split).mkdir(parents=True)
    (root / "labels" / split).mkdir(parents=True)
    for i in range(n):
        img = np.full((64, 64, 3), 40, np.uint8)
        x, y, w, h = (int(v) for v in rng.integers(8, 24, 4))
        img[y : y + h, x : x + w] = (230, 60, 60)
        Image.fromarray(img).save(root / "images" / split / f"{i}.png")
        cx, cy = (x + w / 2) / 64, (y + h / 2) / 64
        (root / "labels" / split / f"{i}.txt").write_text(f"0 {cx} {cy} {w / 64} {h / 64}\\n")
Path("data.yaml").write_text(
    f"path: {root.resolve()}\\ntrain: images/train\\nval: images/val\\nnames:\\n  0: box\\n"
)

model = YOLO("yolov8n.yaml")
add_wandb_callback(model, enable_model_checkpointing=True, max_validation_batches=1)
model.train(
    data="data.yaml", epochs=2, imgsz=64, batch=4, device="cpu", workers=0, plots=False,
    amp=False, project="yolo-fw", name="tiny", exist_ok=True, verbose=False, seed=0,
)
val = sorted(str(p) for p in (root / "images" / "val").glob("*.png"))[:2]
model.predict(source=val, project="yolo-fw", name="pred", save=False, verbose=False)
print("PREDICT", wandb.run.id)
wandb.finish()
"""


def test_yolo_training_logs_metrics_tables_and_checkpoints(tmp, online_env, api):
    online_env.pop("PYTEST_CURRENT_TEST", None)  # Ultralytics turns its loggers off under pytest
    online_env["YOLO_CONFIG_DIR"] = str(tmp / "yolo-config")
    online_env["YOLO_OFFLINE"] = "1"
    done = run_script(tmp, YOLO_SCRIPT, env=online_env, timeout=600)
    predict_id = done.stdout.split("PREDICT ")[1].split()[0]
    run = find_run(api, "yolo-fw", name="tiny")
    assert run.state == "finished"
    # Ultralytics' own callback: its training args as config, one history row per epoch.
    assert run.config["epochs"] == 2 and run.config["imgsz"] == 64
    assert run.config["train"]["batch"] == 4  # add_wandb_callback's on_train_start
    # A row per epoch, then the final validation of the best weights.
    rows = [r for r in history(api, f"admin/yolo-fw/{run.id}") if "metrics/mAP50(B)" in r]
    assert [r["epoch"] for r in rows][:2] == [1, 2] and len(rows) <= 3
    assert all(0.0 <= r["metrics/mAP50(B)"] <= 1.0 for r in rows)
    assert all(isinstance(r["train/box_loss"], float) for r in rows[:2])

    # add_wandb_callback: the epoch table (the 4 validation images at each validation: every
    # epoch and the final one of the best weights, as wandb's callback does) and, from
    # model.predict() in a run the callback started, the prediction table.
    table = run.summary["Train-Table"]
    assert table["_type"] == "table-file" and (table["nrows"], table["ncols"]) == (4 * len(rows), 7)
    predict = api.run(f"admin/yolo-fw/{predict_id}")
    table = predict.summary["Prediction-Table"]
    assert table["_type"] == "table-file" and (table["nrows"], table["ncols"]) == (2, 5)
    assert predict.config["prediction_configs"]["imgsz"] == 64

    # Checkpoints per epoch (add_wandb_callback) and the best weights (Ultralytics' callback);
    # the agent may still be uploading them after the script exits.
    name, aliases = f"admin/yolo-fw/run_{run.id}_model", set()
    for _ in range(150):
        try:
            aliases = {a for v in api.artifact_versions("model", name) for a in v.aliases}
        except CommError:
            pass
        if {"epoch_0", "epoch_1", "best"} <= aliases:
            break
        time.sleep(0.2)
    assert {"epoch_0", "epoch_1", "best"} <= aliases
