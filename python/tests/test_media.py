"""Rich values in the run log (docs/media-api.md): real scripts log images, histograms, tables,
audio, video, HTML, Plotly, 3D objects, molecules and charts; the tests read run.jsonl and the
media files back with plain json/numpy/Pillow, independently of the SDK.

Images from arrays are written as raw pixels for the agent to encode. Offline runs start an agent
too (it captures the run locally), which may already have turned a `.raw` file into its PNG, so
pixel checks read whichever is there; tests/test_e2e_media.py checks the PNG through the server.
"""

import json
from pathlib import Path

import numpy as np

from conftest import only_run, read_log, rows, run_script

PRELUDE = """
import json, os, sys
import numpy as np
import trackway as wandb
run = wandb.init(project="media")
"""


def media_records(records):
    return [r for r in records if r["t"] == "media"]


def files_of(run_dir: Path) -> Path:
    return run_dir / "files"


def pixels(run_dir: Path, path: str) -> bytes:
    """The pixels of a media image from an array: its raw file, or the PNG the agent made of it."""
    try:
        return (files_of(run_dir) / (path + ".raw")).read_bytes()
    except FileNotFoundError:
        from PIL import Image

        with Image.open(files_of(run_dir) / path) as im:
            return im.tobytes()


def last_json(done):
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_images_from_every_source_with_boxes_masks_and_lists(tmp):
    done = run_script(
        tmp,
        PRELUDE
        + """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from PIL import Image as PILImage
arr = (np.arange(4 * 5 * 3) * 7 % 256).astype(np.uint8).reshape(4, 5, 3)
PILImage.fromarray(arr).save("pic.png")
fig = plt.figure(figsize=(1, 1)); plt.imshow(arr)
boxes = {"predictions": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6},
                                       "class_id": 1, "box_caption": "cat", "scores": {"p": 0.9}}],
                         "class_labels": {0: "bg", 1: "cat"}}}
masks = {"truth": {"mask_data": np.array([[0, 1], [1, 0]]), "class_labels": {0: "bg", 1: "cat"}}}
wandb.log({
    "u8": wandb.Image(arr, caption="raw"),
    "gray": wandb.Image(np.zeros((3, 2))),
    "gray1": wandb.Image(np.zeros((3, 2, 1), dtype=np.uint8)),
    "rgba": wandb.Image(np.ones((2, 2, 4))),
    "chw": wandb.Image(np.zeros((3, 6, 7), dtype=np.uint8)),
    "float": wandb.Image(np.full((2, 2, 3), 0.5)),
    "pil": wandb.Image(PILImage.fromarray(arr)),
    "path": wandb.Image("pic.png"),
    "fig": wandb.Image(fig),
    "boxed": wandb.Image(arr, boxes=boxes, masks=masks, classes=[{"id": 0, "name": "bg"}, {"id": 1, "name": "cat"}]),
    "many": [wandb.Image(arr, caption="a"), wandb.Image(arr[:2, :2])],
})
errors = []
for bad in (np.zeros((2, 2, 5)), np.zeros((2, 2, 2, 2)), np.zeros((0, 3)), "missing.png", object()):
    try:
        wandb.Image(bad)
    except ValueError as e:
        errors.append(str(e))
print(json.dumps(errors))
run.finish()
""",
    )
    d = only_run(tmp)
    records, corrupt = read_log(d)
    assert not corrupt
    (row,) = rows(records)
    u8 = row["u8"]
    assert (
        u8["_type"] == "image-file"
        and u8["format"] == "png"
        and (u8["width"], u8["height"]) == (5, 4)
    )
    assert (
        u8["caption"] == "raw"
        and u8["path"].startswith("media/images/")
        and u8["path"].endswith(".png")
    )
    raw = pixels(d, u8["path"])
    expected = (np.arange(60) * 7 % 256).astype(np.uint8).tobytes()
    assert raw == expected
    enc = next(r for r in media_records(records) if r["path"] == u8["path"])["encode"]
    assert enc == {
        "format": "png",
        "width": 5,
        "height": 4,
        "channels": 3,
        "src": u8["path"] + ".raw",
    }
    sizes = {
        k: (row[k]["width"], row[k]["height"])
        for k in ("gray", "gray1", "rgba", "chw", "float", "pil", "path")
    }
    assert sizes == {
        "gray": (2, 3),
        "gray1": (2, 3),
        "rgba": (2, 2),
        "chw": (7, 6),
        "float": (2, 2),
        "pil": (5, 4),
        "path": (5, 4),
    }
    assert pixels(d, row["float"]["path"]) == bytes([128] * 12)  # 0.5 -> 128
    assert pixels(d, row["rgba"]["path"]) == bytes([255] * 16)
    # PIL and the same array give the same pixels, hence the same content-addressed file.
    assert row["pil"]["path"] == u8["path"]
    assert (files_of(d) / row["path"]["path"]).read_bytes() == (tmp / "pic.png").read_bytes()
    assert (
        row["fig"]["format"] == "png"
        and (files_of(d) / row["fig"]["path"]).read_bytes()[:4] == b"\x89PNG"
    )
    boxed = row["boxed"]
    box = boxed["boxes"]["predictions"]["box_data"][0]
    assert box["class_id"] == 1 and box["position"]["maxX"] == 0.5 and box["scores"] == {"p": 0.9}
    assert boxed["boxes"]["predictions"]["class_labels"] == {"0": "bg", "1": "cat"}
    mask = boxed["masks"]["truth"]
    assert mask["_type"] == "mask" and mask["path"].startswith("media/images/mask/")
    assert pixels(d, mask["path"]) == bytes([0, 1, 1, 0])
    assert boxed["classes"]["class_set"][1] == {"id": 1, "name": "cat"}
    many = row["many"]
    assert (
        many["_type"] == "images/separated" and many["count"] == 2 and many["captions"] == ["a", ""]
    )
    assert (
        many["filenames"] == [i["path"] for i in many["images"]] and many["images"][1]["width"] == 2
    )
    # Every media file is announced once; same bytes, one file.
    paths = [r["path"] for r in media_records(records)]
    assert len(paths) == len(set(paths))
    errors = last_json(done)
    assert len(errors) == 5
    assert (
        all("HxW" in e for e in errors[:3]) and "missing.png" in errors[3] and "object" in errors[4]
    )


def test_arrays_over_32_elements_become_32_bin_histograms_and_histogram_class(tmp):
    done = run_script(
        tmp,
        PRELUDE
        + """
wandb.log({"small": np.arange(32.0), "big": np.arange(33.0), "nan": np.array([np.nan] * 40),
           "h": wandb.Histogram([1, 2, 2, 3], num_bins=3),
           "nph": wandb.Histogram(np_histogram=np.histogram([0, 1, 1, 5], bins=2))})
errors = []
for kw in ({"sequence": [1], "num_bins": 513}, {"np_histogram": ([1, 2], [0, 1])}, {}):
    try:
        wandb.Histogram(**kw)
    except ValueError as e:
        errors.append(str(e))
print(json.dumps(errors))
run.finish()
""",
    )
    (row,) = rows(read_log(only_run(tmp))[0])
    assert row["small"] == [float(i) for i in range(32)]
    big = row["big"]
    assert big["_type"] == "histogram" and len(big["values"]) == 32 and len(big["bins"]) == 33
    assert sum(big["values"]) == 33 and big["bins"][0] == 0.0 and big["bins"][-1] == 32.0
    assert row["nan"] == {"_type": "histogram", "bins": [], "values": []}
    assert row["h"] == {
        "_type": "histogram",
        "bins": [1.0, 4 / 3, 5 / 3, 2.0],
        "values": [1, 0, 3],
    } or (row["h"]["values"] == [1, 2, 1] and len(row["h"]["bins"]) == 4)
    assert row["nph"] == {"_type": "histogram", "bins": [0.0, 2.5, 5.0], "values": [3, 1]}
    errors = last_json(done)
    assert len(errors) == 3 and "512" in errors[0] and "bin edges" in errors[1]


def test_tables_dataframes_media_cells_and_incremental(tmp):
    done = run_script(
        tmp,
        PRELUDE
        + """
import pandas as pd
t = wandb.Table(columns=["id", "img", "label"])
t.add_data(0, wandb.Image(np.zeros((2, 2, 3), dtype=np.uint8)), "cat")
t.add_data(1, None, "dog")
t.add_column("score", [0.5, float("nan")])
assert t.get_column("label") == ["cat", "dog"] and t.columns == ["id", "img", "label", "score"]
assert list(t.get_dataframe()["id"]) == [0, 1] and len(t.data) == 2
legacy = wandb.Table(columns=["a"], rows=[[1], [2]])
from_df = wandb.Table(dataframe=pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
default = wandb.Table()
inc = wandb.Table(columns=["step"], log_mode="INCREMENTAL")
inc.add_data(0)
wandb.log({"t": t, "legacy": legacy, "from_df": from_df, "df": pd.DataFrame({"q": [3.5]}), "inc": inc})
inc.add_data(1); inc.add_data(2)
wandb.log({"inc": inc})
errors = []
for make in (lambda: wandb.Table(columns=["a"], data=[[1, 2]]),
             lambda: wandb.Table(columns=["a"], data=[[1], ["x"]]),
             lambda: wandb.Table(columns=["a", "a"]),
             lambda: wandb.Table(log_mode="SOMETIMES"),
             lambda: t.add_column("label", [1, 2])):
    try:
        make()
    except ValueError as e:
        errors.append(f"{type(e).__name__}: {e}")
mixed = wandb.Table(columns=["a"], data=[[1], ["x"]], allow_mixed_types=True)
print(json.dumps(errors))
run.finish()
""",
    )
    d = only_run(tmp)
    first, second = rows(read_log(d)[0])
    ref = first["t"]
    assert ref["_type"] == "table-file" and ref["ncols"] == 4 and ref["nrows"] == 2
    assert ref["columns"] == ["id", "img", "label", "score"] and ref["log_mode"] == "IMMUTABLE"
    body = json.loads((files_of(d) / ref["path"]).read_text())
    assert body["columns"] == ref["columns"] and body["nrows"] == 2
    assert body["column_types"] == {
        "id": "number",
        "img": "image-file",
        "label": "string",
        "score": "number",
    }
    cell = body["data"][0][1]
    assert cell["_type"] == "image-file" and pixels(d, cell["path"])
    assert body["data"][1] == [1, None, "dog", {"$f": "NaN"}]
    assert first["legacy"]["nrows"] == 2 and first["from_df"]["columns"] == ["x", "y"]
    assert first["df"]["_type"] == "table-file" and first["df"]["columns"] == ["q"]
    assert json.loads((files_of(d) / first["df"]["path"]).read_text())["data"] == [[3.5]]
    assert (first["inc"]["increment"], first["inc"]["nrows"]) == (0, 1)
    assert (second["inc"]["increment"], second["inc"]["nrows"], second["inc"]["nrows_total"]) == (
        1,
        2,
        3,
    )
    assert json.loads((files_of(d) / second["inc"]["path"]).read_text())["data"] == [[1], [2]]
    errors = last_json(done)
    assert len(errors) == 5 and all(e.startswith(("ValueError", "TableTypeError")) for e in errors)
    assert "expects 1 columns" in errors[0] and "'a'" in errors[1] and "log_mode" in errors[3]


def test_audio_video_html_plotly_3d_molecule_and_figures(tmp):
    done = run_script(
        tmp,
        PRELUDE
        + """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import plotly.graph_objects as go
open("m.pdb", "w").write("ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\\n")
plt.figure(); plt.plot([1, 2, 3], [3, 1, 2])
line_fig = plt.gcf()
img_fig = plt.figure(); plt.imshow(np.zeros((4, 4)))
video = (np.random.default_rng(0).random((3, 3, 8, 10)) * 255).astype(np.uint8)
wandb.log({
    "audio": wandb.Audio(np.sin(np.linspace(0, 6.28, 800)), sample_rate=8000, caption="beep"),
    "video": wandb.Video(video, fps=2, caption="clip"),
    "html": wandb.Html("<p>hi</p>"),
    "plotly": wandb.Plotly(go.Figure(data=[go.Bar(y=[1, 2])])),
    "go": go.Figure(data=[go.Scatter(y=[1, 2])]),
    "pyplot": plt, "line_fig": line_fig, "img_fig": img_fig,
    "cloud": wandb.Object3D(np.array([[0, 0, 0], [1, 1, 1.5]])),
    "mol": wandb.Molecule("m.pdb"),
})
errors = []
for make in (lambda: wandb.Audio(np.zeros(10)), lambda: wandb.Video(np.zeros((2, 2, 2))),
             lambda: wandb.Video(video, format="mp4"), lambda: wandb.Object3D(np.zeros((3, 2))),
             lambda: wandb.Molecule("m.txt"), lambda: wandb.Audio("nope.wav")):
    try:
        make()
    except ValueError as e:
        errors.append(str(e))
print(json.dumps(errors))
run.finish()
""",
    )
    d = only_run(tmp)
    (row,) = rows(read_log(d)[0])
    audio = row["audio"]
    assert (
        audio["_type"] == "audio-file"
        and audio["sample_rate"] == 8000
        and audio["caption"] == "beep"
    )
    assert (
        abs(audio["duration"] - 0.1) < 1e-9
        and (files_of(d) / audio["path"]).read_bytes()[:4] == b"RIFF"
    )
    video = row["video"]
    assert (
        video["_type"] == "video-file"
        and video["format"] == "gif"
        and (video["width"], video["height"]) == (10, 8)
    )
    from PIL import Image as PILImage

    with PILImage.open(files_of(d) / video["path"]) as gif:
        assert gif.n_frames == 3 and gif.size == (10, 8)
    assert (
        row["html"]["_type"] == "html-file"
        and "<p>hi</p>" in (files_of(d) / row["html"]["path"]).read_text()
    )
    for key in ("plotly", "go", "line_fig"):
        assert row[key]["_type"] == "plotly-file", key
        assert "data" in json.loads((files_of(d) / row[key]["path"]).read_text())
    # plotly cannot keep images: an image instead (`plt` is the current figure, img_fig)
    assert row["img_fig"]["_type"] == "image-file" and row["pyplot"]["_type"] == "image-file"
    cloud = row["cloud"]
    assert cloud["_type"] == "object3D-file" and cloud["format"] == "pts.json"
    assert json.loads((files_of(d) / cloud["path"]).read_text()) == [
        [0.0, 0.0, 0.0],
        [1.0, 1.0, 1.5],
    ]
    mol = row["mol"]
    assert (
        mol["_type"] == "molecule-file" and mol["format"] == "pdb" and mol["path"].endswith(".pdb")
    )
    errors = last_json(done)
    assert len(errors) == 6 and "sample_rate" in errors[0] and "TxCxHxW" in errors[1]
    assert (
        "imageio" in errors[2]
        and "N x 3" in errors[3]
        and "pdb" in errors[4]
        and "nope.wav" in errors[5]
    )


def test_every_plot_helper_stores_a_table_and_a_chart(tmp):
    run_script(
        tmp,
        PRELUDE
        + """
t = wandb.Table(columns=["x", "y", "c"], data=[[1, 2, "a"], [2, 4, "b"], [3, 1, "a"]])
y_true = np.array([0, 1, 1, 0, 2, 2])
probas = np.array([[.8, .1, .1], [.2, .7, .1], [.4, .5, .1], [.6, .3, .1], [.1, .1, .8], [.3, .3, .4]])
wandb.log({
    "line": wandb.plot.line(t, "x", "y", stroke="c", title="L"),
    "scatter": wandb.plot.scatter(t, "x", "y"),
    "bar": wandb.plot.bar(t, "c", "y"),
    "hist": wandb.plot.histogram(t, "y"),
    "series": wandb.plot.line_series([1, 2, 3], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"], xname="t"),
    "roc": wandb.plot.roc_curve(y_true, probas, labels=["a", "b", "c"]),
    "pr": wandb.plot.pr_curve(y_true, probas),
    "cm": wandb.plot.confusion_matrix(y_true=y_true, preds=[0, 1, 0, 0, 2, 1], class_names=["a", "b", "c"]),
    "custom": wandb.plot_table("my/spec", t, {"x": "x"}, {"title": "T"}),
})
run.finish()
""",
    )
    d = only_run(tmp)
    (row,) = rows(read_log(d)[0])
    specs = {
        "line": "wandb/line/v0",
        "scatter": "wandb/scatter/v0",
        "bar": "wandb/bar/v0",
        "hist": "wandb/histogram/v0",
        "series": "wandb/lineseries/v0",
        "roc": "wandb/area-under-curve/v0",
        "pr": "wandb/area-under-curve/v0",
        "cm": "wandb/confusion_matrix/v1",
        "custom": "my/spec",
    }
    for key, spec in specs.items():
        chart = row[key]
        assert (
            chart["_type"] == "custom-chart"
            and chart["spec"] == spec
            and chart["table_key"] == key + "_table"
        )
        table = row[key + "_table"]
        assert table["_type"] == "table-file" and "table" not in chart
        body = json.loads((files_of(d) / table["path"]).read_text())
        assert set(chart["fields"].values()) <= set(body["columns"]), key
    assert row["line"]["fields"] == {"x": "x", "y": "y", "stroke": "c"} and row["line"][
        "string_fields"
    ] == {"title": "L"}
    assert (
        row["series_table"]["columns"] == ["step", "lineKey", "lineVal"]
        and row["series_table"]["nrows"] == 6
    )
    roc = json.loads((files_of(d) / row["roc_table"]["path"]).read_text())
    assert roc["columns"] == ["class", "fpr", "tpr"] and {r[0] for r in roc["data"]} == {
        "a",
        "b",
        "c",
    }
    assert [r[1:] for r in roc["data"] if r[0] == "c"][-1] == [1.0, 1.0]
    assert row["pr_table"]["columns"] == ["class", "recall", "precision"]
    cm = json.loads((files_of(d) / row["cm_table"]["path"]).read_text())
    assert cm["columns"] == ["Actual", "Predicted", "nPredictions"]
    assert (
        ["b", "a", 1] in cm["data"]
        and ["c", "c", 1] in cm["data"]
        and sum(r[2] for r in cm["data"]) == 6
    )


def test_every_sklearn_helper_logs_wandbs_tables(tmp):
    run_script(
        tmp,
        PRELUDE
        + """
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge
X, y = make_classification(n_samples=120, n_features=5, random_state=0)
Xtr, Xte, ytr, yte = X[:80], X[80:], y[:80], y[80:]
clf = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xtr, ytr)
wandb.sklearn.plot_classifier(clf, Xtr, Xte, ytr, yte, clf.predict(Xte), clf.predict_proba(Xte), ["no", "yes"],
                              is_binary=True, model_name="RF", feature_names=list("abcde"), log_learning_curve=True)
Xr, yr = make_regression(n_samples=80, n_features=3, random_state=0)
wandb.sklearn.plot_regressor(Ridge().fit(Xr[:60], yr[:60]), Xr[:60], Xr[60:], yr[:60], yr[60:])
Xc, _ = make_blobs(n_samples=60, centers=3, random_state=0)
km = KMeans(n_clusters=3, n_init=2, random_state=0).fit(Xc)
wandb.sklearn.plot_clusterer(km, Xc, km.labels_)
run.finish()
""",
        timeout=180,
    )
    d = only_run(tmp)
    merged = {}
    for r in rows(read_log(d)[0]):
        merged.update(r)
    expected = {
        "feature_importances": ("wandb/feature_importances/v1", ["feature_names", "importances"]),
        "learning_curve": ("wandb/learning_curve/v1", ["dataset", "score", "train_size"]),
        "confusion_matrix": ("wandb/confusion_matrix/v1", ["Predicted", "Actual", "Count"]),
        "summary_metrics": ("wandb/metrics/v1", ["metric_name", "metric_value", "model_name"]),
        "class_proportions": ("wandb/class_proportions/v1", ["class", "dataset", "count"]),
        "calibration_curve": (
            "wandb/calibration/v1",
            ["model", "fraction_of_positives", "mean_predicted_value", "hist_dict", "edge_dict"],
        ),
        "roc": ("wandb/area-under-curve/v0", ["class", "fpr", "tpr"]),
        "precision_recall": ("wandb/area-under-curve/v0", ["class", "recall", "precision"]),
        "outlier_candidates": (
            "wandb/outliers/v1",
            ["distance", "instance_indicies", "outlier_percentage", "influence_threshold"],
        ),
        "residuals": (
            "wandb/residuals_plot/v1",
            ["dataset", "y_pred", "residuals", "train_score", "test_score"],
        ),
        "elbow_curve": ("wandb/elbow/v1", ["cluster_ranges", "errors", "clustering_time"]),
        "silhouette_plot": (
            "wandb/silhouette_/v1",
            [
                "x",
                "y",
                "colors",
                "centerx",
                "centery",
                "y_sil",
                "x1",
                "x2",
                "color_sil",
                "silhouette_avg",
            ],
        ),
    }
    for key, (spec, columns) in expected.items():
        assert merged[key]["spec"] == spec, key
        assert merged[key + "_table"]["columns"] == columns, key
        assert merged[key + "_table"]["nrows"] > 0, key
    names = {
        r[0]
        for r in json.loads((files_of(d) / merged["class_proportions_table"]["path"]).read_text())[
            "data"
        ]
    }
    assert names == {"no", "yes"}


def test_over_limit_values_warn_and_keep_the_rest_of_the_row(tmp):
    done = run_script(
        tmp,
        PRELUDE
        + """
import trackway.data_types._base as base
base.MAX_MEDIA_BYTES = 1000
big = wandb.Table(columns=["i"], data=[[i] for i in range(10)])
big.MAX_ROWS = 4
wandb.log({"img": wandb.Image(np.zeros((40, 40, 3), dtype=np.uint8)), "loss": 0.5, "t": big})
run.finish()
""",
    )
    (row,) = rows(read_log(only_run(tmp))[0])
    assert row["img"] is None and row["loss"] == 0.5 and row["t"]["nrows"] == 4
    assert "over the 1000 byte limit" in done.stderr and "only the first 4 rows" in done.stderr


def test_disabled_runs_accept_media_without_writing(tmp):
    from conftest import clean_env

    run_script(
        tmp,
        """
import numpy as np, trackway as wandb
run = wandb.init(mode="disabled")
wandb.log({"img": wandb.Image(np.zeros((2, 2))), "t": wandb.Table(columns=["a"], data=[[1]])})
run.finish()
""",
        env=clean_env(tmp, TRACKWAY_MODE="disabled"),
    )
    assert not (tmp / "trackway").exists()


def test_module_paths_are_wandbs():
    import trackway
    from trackway.sdk.data_types.base_types.wb_value import WBValue
    from trackway.sdk.data_types.image import Image
    from trackway.sdk.data_types.video import Video

    assert Image is trackway.Image is trackway.data_types.Image and Video is trackway.Video
    assert issubclass(trackway.Table, WBValue) and trackway.plot_table is trackway.plot.plot_table
    assert callable(trackway.sklearn.plot_roc)


def test_media_records_follow_the_run_format_schema(tmp):
    import jsonschema

    from conftest import REPO

    validator = jsonschema.Draft202012Validator(
        json.loads((REPO / "docs" / "run-format.schema.json").read_text())
    )
    run_script(
        tmp,
        PRELUDE
        + """
wandb.log({"img": wandb.Image(np.zeros((3, 3), dtype=np.uint8)), "t": wandb.Table(columns=["a"], data=[[1]])})
run.finish()
""",
    )
    records, _ = read_log(only_run(tmp))
    assert {r["t"] for r in records} >= {"media", "history"}
    for rec in records:
        validator.validate(rec)
    for bad in (
        {"t": "media"},
        {
            "t": "media",
            "path": "x.png",
            "encode": {"format": "jpeg", "width": 1, "height": 1, "channels": 3, "src": "y"},
        },
        {
            "t": "media",
            "path": "x.png",
            "encode": {"format": "png", "width": 0, "height": 1, "channels": 3, "src": "y"},
        },
    ):
        assert not validator.is_valid(bad), bad
