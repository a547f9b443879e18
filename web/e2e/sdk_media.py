"""A real script logging rich data through the Python SDK, for the browser tests of the media
panels (e2e/media.mjs, "a Python script's media ..."): images with boxes and masks, histograms,
text, a table with image cells, audio, a GIF video, HTML, a Plotly figure, every plot.* chart
and sklearn charts on a small model.

usage: sdk_media.py RUN_ID   (server and key come from TRACKWAY_BASE_URL/_API_KEY)
"""
import sys

import numpy as np

import trackway

STEPS = 6


def image(step: int) -> np.ndarray:
    """16×12 RGB: a colour that encodes the step, so the test can tell which image is shown."""
    arr = np.zeros((12, 16, 3), dtype=np.uint8)
    arr[:, :] = (10 * step, 100, 200)
    return arr


def main() -> None:
    run_id = sys.argv[1]
    run = trackway.init(project="sdkmedia", id=run_id, name=f"media-{run_id}")
    classes = {1: "cat", 2: "dog"}
    mask = np.zeros((12, 16), dtype=np.uint8)
    mask[:, :8] = 1
    mask[:, 8:] = 2
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        img = trackway.Image(image(step), caption=f"step {step}",
                             boxes={"predictions": {"box_data": [
                                 {"position": {"minX": 1, "maxX": 7, "minY": 1, "maxY": 6}, "domain": "pixel",
                                  "class_id": 1, "box_caption": "cat"},
                                 {"position": {"middle": [0.75, 0.5], "width": 0.3, "height": 0.5}, "class_id": 2}],
                                 "class_labels": classes}},
                             masks={"ground_truth": {"mask_data": mask, "class_labels": classes}})
        trackway.log({"loss": 1.0 / (step + 1) + 0.0001, "phase": "train" if step % 2 == 0 else "eval",
                      "examples": img,
                      "grid": [trackway.Image(image(step + k), caption=f"grid {k}") for k in range(2)],
                      "weights": trackway.Histogram(np_histogram=(np.arange(1, 11) * (step + 1), np.linspace(-1, 1, 11))),
                      "acts": rng.normal(size=200) + step})
    table = trackway.Table(columns=["id", "image", "label", "score"])
    for k in range(40):
        table.add_data(k, trackway.Image(image(k % STEPS)) if k < 3 else None, ["cat", "dog", "bird"][k % 3], round(k / 40, 3))
    import plotly.graph_objects as go
    fig = go.Figure(data=[go.Scatter(x=[1, 2, 3], y=[2, 4, 8], name="line"), go.Bar(x=[1, 2, 3], y=[3, 1, 2], name="bars")])
    y_true = [0, 1, 1, 0, 1, 0, 1, 1]
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4], [0.2, 0.8], [0.9, 0.1], [0.55, 0.45], [0.1, 0.9]])
    pts = trackway.Table(columns=["x", "y"], data=[[i, i * i] for i in range(10)])
    trackway.log({
        "preds": table,
        "tone": trackway.Audio(np.sin(np.linspace(0, 440 * 2 * np.pi, 8000)).astype(np.float32), sample_rate=8000, caption="tone"),
        "clip": trackway.Video((np.ones((4, 3, 12, 16)) * np.arange(4)[:, None, None, None] * 60).astype(np.uint8), fps=4, format="gif"),
        "report": trackway.Html("<h1 id='t'>sdk report</h1>"),
        "fig": trackway.Plotly(fig),
        "roc": trackway.plot.roc_curve(y_true, probs, labels=["neg", "pos"]),
        "cm": trackway.plot.confusion_matrix(y_true=y_true, preds=list(probs.argmax(axis=1)), class_names=["neg", "pos"]),
        "curve": trackway.plot.line(pts, "x", "y", title="y = x²"),
        "bars": trackway.plot.bar(trackway.Table(columns=["label", "value"], data=[["a", 1.5], ["b", 2.5]]), "label", "value", title="bars"),
        "pr": trackway.plot.pr_curve(y_true, probs, labels=["neg", "pos"]),
        "pts": trackway.plot.scatter(pts, "x", "y", title="points"),
        "spread": trackway.plot.histogram(trackway.Table(columns=["v"], data=[[float(v)] for v in rng.normal(size=50)]), "v", title="spread"),
        "series": trackway.plot.line_series(xs=[0, 1, 2], ys=[[1, 2, 3], [2, 4, 6]], keys=["a", "b"], title="series"),
    })
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    model = LogisticRegression().fit(X[:60], y[:60])
    trackway.sklearn.plot_confusion_matrix(y[60:], model.predict(X[60:]), labels=["a", "b"])
    trackway.sklearn.plot_feature_importances(model, ["f0", "f1", "f2", "f3"])
    trackway.sklearn.plot_class_proportions(y[:60], y[60:], ["a", "b"])
    trackway.sklearn.plot_summary_metrics(model, X[:60], y[:60], X[60:], y[60:])
    trackway.sklearn.plot_precision_recall(y[60:], model.predict_proba(X[60:]), ["a", "b"])
    run.finish()


if __name__ == "__main__":
    main()
