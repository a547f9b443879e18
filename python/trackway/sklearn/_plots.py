"""The `plot_*` helpers. Each returns nothing and logs one chart (`_log`); the table shapes are
wandb's so that charts and code reading them match."""

from __future__ import annotations

import sys

from .. import _term
from ..data_types.table import Table
from ..plot import CustomChart
from ..plot import pr_curve as _pr_chart
from ..plot import roc_curve as _roc_chart

CHART_LIMIT = 10_000


def _log(key: str, chart) -> None:
    run = getattr(sys.modules.get("trackway"), "run", None)
    if run is None:
        raise RuntimeError(f"trackway.sklearn: call trackway.init() before logging {key!r}")
    run.log({key: chart})


def _chart(spec: str, columns, rows) -> CustomChart:
    return CustomChart(
        spec,
        Table(columns=columns, data=[list(r) for r in rows[:CHART_LIMIT]], allow_mixed_types=True),
    )


def _np(x):
    import numpy as np

    return np.asarray(x)


def _name(labels, value):
    try:
        return labels[int(value)] if labels is not None else _py(value)
    except (IndexError, TypeError, ValueError):
        return _py(value)


def _py(v):
    return v.item() if hasattr(v, "item") else v


def plot_roc(
    y_true=None, y_probas=None, labels=None, plot_micro=True, plot_macro=True, classes_to_plot=None
):
    _log("roc", _roc_chart(y_true, y_probas, labels, classes_to_plot))


def plot_precision_recall(
    y_true=None, y_probas=None, labels=None, plot_micro=True, classes_to_plot=None
):
    _log("precision_recall", _pr_chart(y_true, y_probas, labels, classes_to_plot))


def plot_confusion_matrix(
    y_true=None, y_pred=None, labels=None, true_labels=None, pred_labels=None, normalize=False
):
    import numpy as np
    from sklearn import metrics
    from sklearn.utils.multiclass import unique_labels

    y_true, y_pred = _np(y_true), _np(y_pred)
    classes = unique_labels(y_true, y_pred)
    cm = metrics.confusion_matrix(y_true, y_pred, labels=classes)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = np.nan_to_num(np.around(cm / cm.sum(axis=1, keepdims=True), 2))
    rows = [
        [_name(labels, classes[p]), _name(labels, classes[a]), _py(cm[a, p])]
        for p in range(len(classes))
        for a in range(len(classes))
    ]
    _log(
        "confusion_matrix",
        _chart("wandb/confusion_matrix/v1", ["Predicted", "Actual", "Count"], rows),
    )


def plot_feature_importances(
    model=None, feature_names=None, title="Feature Importance", max_num_features=50
):
    import numpy as np

    for attr in ("feature_importances_", "coef_", "feature_log_prob_"):
        if hasattr(model, attr):
            importances = np.asarray(getattr(model, attr), dtype=float)
            break
    else:
        _term.termwarn(
            "plot_feature_importances: the model has no feature_importances_, coef_ "
            "or feature_log_prob_; nothing logged"
        )
        return
    if importances.ndim > 1:
        if sum(d > 1 for d in importances.shape) > 1:
            _term.termwarn(
                "plot_feature_importances: multi-dimensional importances are not "
                "supported; nothing logged"
            )
            return
        importances = importances.ravel()
    order = np.argsort(importances)[::-1][:max_num_features]
    names = [(feature_names[i] if feature_names is not None else int(i)) for i in order]
    rows = [[n, float(importances[i])] for n, i in zip(names, order)]
    _log(
        "feature_importances",
        _chart("wandb/feature_importances/v1", ["feature_names", "importances"], rows),
    )


def plot_class_proportions(y_train=None, y_test=None, labels=None):
    import numpy as np

    y_train, y_test = _np(y_train), _np(y_test)
    classes = np.unique(np.concatenate([y_train, y_test]))
    rows = []
    for c in classes:
        rows.append([_name(labels, c), "train", int((y_train == c).sum())])
        rows.append([_name(labels, c), "test", int((y_test == c).sum())])
    _log(
        "class_proportions",
        _chart("wandb/class_proportions/v1", ["class", "dataset", "count"], rows),
    )


def plot_calibration_curve(clf=None, X=None, y=None, clf_name="Classifier"):
    import numpy as np
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV, calibration_curve
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    y = _np(y)
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        _term.termwarn("plot_calibration_curve supports binary 0/1 labels only; nothing logged")
        return
    rows = [["Perfectly calibrated", 0, 0, 0, 0], ["Perfectly calibrated", 1, 1, 0, 0]]
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.9, random_state=42)
    models = [
        ("Logistic", LogisticRegression(C=1.0)),
        (f"{clf_name} Isotonic", CalibratedClassifierCV(clone(clf), cv=2, method="isotonic")),
        (f"{clf_name} Sigmoid", CalibratedClassifierCV(clone(clf), cv=2, method="sigmoid")),
    ]
    for name, model in models:
        model.fit(x_train, y_train)
        prob = model.predict_proba(x_test)[:, 1]
        hist, edges = np.histogram(prob, bins=10)
        frac, mean_pred = calibration_curve(y_test, prob, n_bins=10)
        for i in range(len(frac)):
            rows.append(
                [
                    name,
                    round(float(frac[i]), 3),
                    round(float(mean_pred[i]), 3),
                    int(hist[i]),
                    float(edges[i]),
                ]
            )
    _log(
        "calibration_curve",
        _chart(
            "wandb/calibration/v1",
            ["model", "fraction_of_positives", "mean_predicted_value", "hist_dict", "edge_dict"],
            rows,
        ),
    )


def plot_summary_metrics(model=None, X=None, y=None, X_test=None, y_test=None):
    from sklearn import base, metrics

    y_pred = model.predict(X_test)
    if base.is_classifier(model):
        values = {
            "accuracy_score": metrics.accuracy_score(y_test, y_pred),
            "precision": metrics.precision_score(y_test, y_pred, average="weighted"),
            "recall": metrics.recall_score(y_test, y_pred, average="weighted"),
            "f1_score": metrics.f1_score(y_test, y_pred, average="weighted"),
        }
    else:
        values = {
            "mae": metrics.mean_absolute_error(y_test, y_pred),
            "mse": metrics.mean_squared_error(y_test, y_pred),
            "r2_score": metrics.r2_score(y_test, y_pred),
        }
    rows = [[k, round(float(v), 2), type(model).__name__] for k, v in values.items()]
    _log(
        "summary_metrics",
        _chart("wandb/metrics/v1", ["metric_name", "metric_value", "model_name"], rows),
    )


def plot_learning_curve(
    model=None,
    X=None,
    y=None,
    cv=None,
    shuffle=False,
    random_state=None,
    train_sizes=None,
    n_jobs=1,
    scoring=None,
):
    import numpy as np
    from sklearn.model_selection import learning_curve

    sizes, train, test = learning_curve(
        model,
        X,
        _np(y),
        cv=cv,
        n_jobs=n_jobs,
        scoring=scoring,
        shuffle=shuffle,
        random_state=random_state,
        train_sizes=np.linspace(0.1, 1.0, 5) if train_sizes is None else train_sizes,
    )
    rows = []
    for n, tr, te in zip(sizes, train.mean(axis=1), test.mean(axis=1)):
        rows.append(["train", round(float(tr), 2), int(n)])
        rows.append(["test", round(float(te), 2), int(n)])
    _log(
        "learning_curve",
        _chart("wandb/learning_curve/v1", ["dataset", "score", "train_size"], rows),
    )


def plot_residuals(regressor=None, X=None, y=None):
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(X, _np(y), test_size=0.2, random_state=0)
    regressor.fit(x_train, y_train)
    train_score, test_score = regressor.score(x_train, y_train), regressor.score(x_test, y_test)
    rows = []
    for name, xs, ys in (("train", x_train, y_train), ("test", x_test, y_test)):
        pred = regressor.predict(xs)
        for p, r in list(zip(pred, pred - ys))[:100]:
            rows.append([name, float(p), float(r), float(train_score), float(test_score)])
    _log(
        "residuals",
        _chart(
            "wandb/residuals_plot/v1",
            ["dataset", "y_pred", "residuals", "train_score", "test_score"],
            rows,
        ),
    )


def plot_outlier_candidates(regressor=None, X=None, y=None):
    import numpy as np

    X, y = np.asarray(X, dtype=float), _np(y)
    regressor.fit(X, y)
    leverage = (X * np.linalg.pinv(X).T).sum(1)
    dof = max(X.shape[0] - np.linalg.matrix_rank(X), 1)
    residuals = y - regressor.predict(X)
    mse = np.dot(residuals, residuals) / dof
    with np.errstate(divide="ignore", invalid="ignore"):
        studentized = residuals / np.sqrt(mse) / np.sqrt(1 - leverage)
        distance = np.nan_to_num(studentized**2 / X.shape[1] * leverage / (1 - leverage))
    threshold = 4 / X.shape[0]
    outliers = round(float((distance >= threshold).mean() * 100.0), 3)
    rows = [[float(d), i, outliers, threshold] for i, d in enumerate(distance)]
    _log(
        "outlier_candidates",
        _chart(
            "wandb/outliers/v1",
            ["distance", "instance_indicies", "outlier_percentage", "influence_threshold"],
            rows,
        ),
    )


def plot_elbow_curve(clusterer=None, X=None, cluster_ranges=None, n_jobs=1, show_cluster_time=True):
    import time

    import numpy as np
    from sklearn.base import clone

    if not hasattr(clusterer, "n_clusters"):
        _term.termwarn("plot_elbow_curve: the clusterer has no n_clusters; nothing logged")
        return
    rows = []
    for k in sorted(cluster_ranges) if cluster_ranges is not None else range(1, 10, 2):
        start = time.time()
        model = clone(clusterer).set_params(n_clusters=k)
        score = model.fit(X).score(X)
        rows.append([k, float(np.abs(score)), time.time() - start])
    _log(
        "elbow_curve",
        _chart("wandb/elbow/v1", ["cluster_ranges", "errors", "clustering_time"], rows),
    )


def plot_silhouette(
    clusterer=None, X=None, cluster_labels=None, labels=None, metric="euclidean", kmeans=True
):
    import numpy as np
    from sklearn.metrics import silhouette_samples, silhouette_score

    X = np.asarray(getattr(X, "values", X), dtype=float)
    cluster_labels = np.asarray(cluster_labels)
    avg = float(silhouette_score(X, cluster_labels, metric=metric))
    samples = silhouette_samples(X, cluster_labels, metric=metric)
    centers = getattr(clusterer, "cluster_centers_", None) if kmeans else None
    rows, y_lower = [], 10
    for i, c in enumerate(np.unique(cluster_labels)):
        values = np.sort(samples[cluster_labels == c])
        for j, v in enumerate(values):
            idx = len(rows)
            cx = float(centers[i][0]) if centers is not None else None
            cy = float(centers[i][1]) if centers is not None else None
            rows.append(
                [
                    float(X[idx % len(X), 0]),
                    float(X[idx % len(X), 1]),
                    _py(cluster_labels[idx % len(X)]),
                    cx,
                    cy,
                    y_lower + j,
                    0,
                    float(v),
                    i,
                    avg,
                ]
            )
        y_lower += len(values) + 10
    _log(
        "silhouette_plot",
        _chart(
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
            rows,
        ),
    )


def plot_classifier(
    model,
    X_train,
    X_test,
    y_train,
    y_test,
    y_pred,
    y_probas,
    labels,
    is_binary=False,
    model_name="Classifier",
    feature_names=None,
    log_learning_curve=False,
):
    _term.termlog(f"Plotting {model_name}.")
    plot_feature_importances(model, feature_names)
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_class_proportions(y_train, y_test, labels)
    if is_binary:
        plot_calibration_curve(model, X_train, y_train, model_name)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)


def plot_regressor(model, X_train, X_test, y_train, y_test, model_name="Regressor"):
    _term.termlog(f"Plotting {model_name}.")
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_learning_curve(model, X_train, y_train)
    plot_outlier_candidates(model, X_train, y_train)
    plot_residuals(model, X_train, y_train)


def plot_clusterer(model, X_train, cluster_labels, labels=None, model_name="Clusterer"):
    _term.termlog(f"Plotting {model_name}.")
    if hasattr(model, "n_clusters") and hasattr(model, "cluster_centers_"):
        plot_elbow_curve(model, X_train)
        plot_silhouette(model, X_train, cluster_labels, labels=labels, kmeans=True)
    else:
        plot_silhouette(model, X_train, cluster_labels, kmeans=False)
