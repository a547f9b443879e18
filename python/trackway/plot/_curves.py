"""ROC and precision-recall curves and the confusion matrix, computed with numpy alone."""

from __future__ import annotations

from ..data_types.table import Table

CHART_LIMIT = 10_000  # rows of a chart's table (wandb's limit)


def _arrays(y_true, y_probas):
    import numpy as np

    y_true = np.asarray(y_true)
    probas = np.asarray(y_probas, dtype=float)
    if probas.ndim == 1:
        probas = np.stack([1 - probas, probas], axis=1)
    if probas.ndim != 2 or probas.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_probas must be N x classes for N={y_true.shape[0]} labels, got shape {probas.shape}"
        )
    return y_true, probas


def _classes(y_true, probas, labels, classes_to_plot):
    import numpy as np

    classes = np.unique(y_true)
    if len(classes) < probas.shape[1] and np.issubdtype(classes.dtype, np.integer):
        classes = np.arange(probas.shape[1])
    picked = classes if classes_to_plot is None else classes_to_plot
    for c in picked:
        i = int(np.where(classes == c)[0][0])
        name = labels[i] if labels is not None and i < len(labels) else c
        yield i, c, name.item() if hasattr(name, "item") else name


def _curve(hits, scores):
    """(false positive rate, true positive rate, precision) at each distinct threshold."""
    import numpy as np

    order = np.argsort(-scores, kind="mergesort")
    hits, scores = hits[order], scores[order]
    last = np.r_[np.where(np.diff(scores))[0], hits.size - 1]
    tp = np.cumsum(hits)[last]
    fp = (last + 1) - tp
    pos, neg = max(hits.sum(), 1), max(hits.size - hits.sum(), 1)
    return np.r_[0, fp / neg], np.r_[0, tp / pos], tp / np.maximum(tp + fp, 1)


def _thin(n: int, limit: int):
    import numpy as np

    return np.unique(np.linspace(0, n - 1, min(n, limit)).astype(int))


def roc_curve(
    y_true=None, y_probas=None, labels=None, classes_to_plot=None, title="ROC", split_table=False
):
    from . import CustomChart

    y_true, probas = _arrays(y_true, y_probas)
    rows = []
    picked = list(_classes(y_true, probas, labels, classes_to_plot))
    for i, c, name in picked:
        fpr, tpr, _ = _curve(y_true == c, probas[:, i])
        for j in _thin(len(fpr), CHART_LIMIT // max(len(picked), 1)):
            rows.append([name, round(float(fpr[j]), 3), round(float(tpr[j]), 3)])
    table = Table(columns=["class", "fpr", "tpr"], data=rows, allow_mixed_types=True)
    return CustomChart(
        "wandb/area-under-curve/v0",
        table,
        {"x": "fpr", "y": "tpr", "class": "class"},
        {
            "title": title,
            "x-axis-title": "False positive rate",
            "y-axis-title": "True positive rate",
        },
        split_table,
    )


def pr_curve(
    y_true=None,
    y_probas=None,
    labels=None,
    classes_to_plot=None,
    interp_size=21,
    title="Precision-Recall Curve",
    split_table=False,
):
    import numpy as np

    from . import CustomChart

    y_true, probas = _arrays(y_true, y_probas)
    rows = []
    grid = np.linspace(0, 1, int(interp_size))
    for i, c, name in _classes(y_true, probas, labels, classes_to_plot):
        _, recall, precision = _curve(y_true == c, probas[:, i])
        recall = recall[1:]
        # Interpolated precision: the best precision at any recall >= r.
        best = np.maximum.accumulate(precision[::-1])[::-1]
        for r in grid:
            at = np.searchsorted(recall, r, side="left")
            p = float(best[at]) if at < len(best) else 0.0
            rows.append([name, round(float(r), 3), round(p, 3)])
    table = Table(columns=["class", "recall", "precision"], data=rows, allow_mixed_types=True)
    return CustomChart(
        "wandb/area-under-curve/v0",
        table,
        {"x": "recall", "y": "precision", "class": "class"},
        {"title": title, "x-axis-title": "Recall", "y-axis-title": "Precision"},
        split_table,
    )


def confusion_matrix(
    probs=None,
    y_true=None,
    preds=None,
    class_names=None,
    title="Confusion Matrix Curve",
    split_table=False,
):
    import numpy as np

    from . import CustomChart

    if (probs is None) == (preds is None):
        raise ValueError("confusion_matrix: pass exactly one of probs= and preds=")
    y_true = np.asarray(y_true).astype(int)
    preds = (
        np.argmax(np.asarray(probs), axis=1) if probs is not None else np.asarray(preds).astype(int)
    )
    n = int(max(y_true.max(initial=0), preds.max(initial=0))) + 1
    if class_names is not None:
        if len(class_names) < n:
            raise ValueError(
                f"confusion_matrix: {len(class_names)} class_names for labels up to {n - 1}"
            )
        n = len(class_names)
    names = list(class_names) if class_names is not None else [f"Class_{i + 1}" for i in range(n)]
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (y_true, preds), 1)
    rows = [[names[a], names[p], int(counts[a, p])] for a in range(n) for p in range(n)]
    table = Table(columns=["Actual", "Predicted", "nPredictions"], data=rows)
    return CustomChart(
        "wandb/confusion_matrix/v1",
        table,
        {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
        {"title": title},
        split_table,
    )
