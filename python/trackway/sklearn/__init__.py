"""Charts for scikit-learn models (wandb's `wandb.sklearn`): each `plot_*` computes a table and
logs it as a custom chart to the active run, under wandb's key with wandb's table columns
(docs/media-api.md "Custom charts"). scikit-learn is imported only when a helper runs."""

from __future__ import annotations

from ._plots import (
    plot_calibration_curve,
    plot_class_proportions,
    plot_classifier,
    plot_clusterer,
    plot_confusion_matrix,
    plot_elbow_curve,
    plot_feature_importances,
    plot_learning_curve,
    plot_outlier_candidates,
    plot_precision_recall,
    plot_regressor,
    plot_residuals,
    plot_roc,
    plot_silhouette,
    plot_summary_metrics,
)

__all__ = [
    "plot_calibration_curve",
    "plot_class_proportions",
    "plot_classifier",
    "plot_clusterer",
    "plot_confusion_matrix",
    "plot_elbow_curve",
    "plot_feature_importances",
    "plot_learning_curve",
    "plot_outlier_candidates",
    "plot_precision_recall",
    "plot_regressor",
    "plot_residuals",
    "plot_roc",
    "plot_silhouette",
    "plot_summary_metrics",
]
