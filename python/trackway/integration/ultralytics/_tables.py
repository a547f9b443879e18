"""Table rows of the Ultralytics integration: wandb's columns, one row per image.

Detection, segmentation and pose results are shown as the image with its predicted boxes (and,
for validation images, the ground-truth boxes) as overlays; classification results as the image
with the top-1 and top-5 classes and every class's probability. (wandb also draws pose
skeletons and segmentation masks; here those results show their boxes.)
"""

from __future__ import annotations

import numpy as np

import trackway

_BOX_VALIDATION = ("Data-Index", "Batch-Index", "Image", "Mean-Confidence", "Speed")
_CLASSIFY = (
    "Image",
    "Predicted-Category",
    "Prediction-Confidence",
    "Top-5-Prediction-Categories",
    "Top-5-Prediction-Confindence",  # sic: wandb's column name
    "Probabilities",
    "Speed",
)
_CLASSIFY_VALIDATION = ("Data-Index", "Batch-Index", "Image", "Ground-Truth-Category") + _CLASSIFY[
    1:
]

# (family, kind) -> the columns, as wandb names them.
TABLE_COLUMNS = {
    ("boxes", "train"): ("Model-Name", "Epoch") + _BOX_VALIDATION,
    ("boxes", "validation"): ("Model-Name",) + _BOX_VALIDATION,
    ("boxes", "prediction"): ("Model-Name", "Image", "Num-Objects", "Mean-Confidence", "Speed"),
    ("classify", "train"): ("Model-Name", "Epoch") + _CLASSIFY_VALIDATION,
    ("classify", "validation"): ("Model-Name",) + _CLASSIFY_VALIDATION,
    ("classify", "prediction"): ("Model-Name",) + _CLASSIFY,
}


def _labels(names) -> dict:
    return {int(k): str(v) for k, v in dict(names).items()}


def _box(xywh, class_id: int, labels: dict, confidence=None) -> dict:
    box = {
        "position": {
            "middle": [int(xywh[0]), int(xywh[1])],
            "width": int(xywh[2]),
            "height": int(xywh[3]),
        },
        "domain": "pixel",
        "class_id": class_id,
        "box_caption": labels.get(class_id, str(class_id)),
    }
    if confidence is not None:
        box["scores"] = {"confidence": float(confidence)}
    return box


def predicted_boxes(result) -> tuple:
    """(box_data, mean confidence per class label) of one result, in original-image pixels."""
    result = result.to("cpu")
    labels = _labels(result.names)
    if result.boxes is None:
        return [], {}
    xywh = result.boxes.xywh.numpy()
    classes = result.boxes.cls.long().numpy().tolist()
    conf = result.boxes.conf.numpy().tolist()
    data = [_box(b, c, labels, s) for b, c, s in zip(xywh, classes, conf)]
    per_class = {label: [] for label in labels.values()}
    for c, s in zip(classes, conf):
        per_class[labels[c]].append(s)
    return data, {k: (sum(v) / len(v) if v else 0) for k, v in per_class.items()}


def ground_truth_boxes(batch: dict, i: int, labels: dict) -> list:
    """The validation batch's labels of image `i`, scaled back to its original pixels."""
    import torch
    from ultralytics.utils import ops

    mine = batch["batch_idx"] == i
    boxes = batch["bboxes"][mine]
    if len(boxes) == 0:
        return []
    resized = batch["resized_shape"][i]
    xyxy = ops.xywhn2xyxy(torch.as_tensor(boxes), w=resized[1], h=resized[0])
    xyxy = ops.scale_boxes(resized, xyxy, batch["ori_shape"][i], batch["ratio_pad"][i])
    classes = batch["cls"][mine].view(-1).long().tolist()
    return [_box(b, c, labels) for b, c in zip(ops.xyxy2xywh(xyxy).tolist(), classes)]


def _classify_cells(result, image) -> list:
    result = result.to("cpu")
    labels = _labels(result.names)
    probs = result.probs
    values = probs.data.numpy().tolist()
    top5 = [int(c) for c in probs.top5]
    return [
        trackway.Image(image),
        labels[int(probs.top1)],
        float(probs.top1conf),
        [labels[c] for c in top5],
        [values[c] for c in top5],
        {labels[c]: p for c, p in enumerate(values)},
        result.speed,
    ]


def _batches(validator, limit: int):
    for batch_idx, batch in enumerate(validator.dataloader):
        if batch_idx >= limit:
            return
        yield batch_idx, batch


def validation_rows(callback, validator):
    """Rows (after Model-Name and Epoch) for the first validation batches."""
    labels = _labels(validator.names)
    data_idx = 0
    for batch_idx, batch in _batches(validator, callback.max_validation_batches):
        if callback.task == "classify":
            images = np.transpose(batch["img"].cpu().numpy(), (0, 2, 3, 1))
            truth = batch["cls"].view(-1).long().tolist()
            for i, image in enumerate(images):
                cells = _classify_cells(callback.predictor(image)[0], image)
                yield [data_idx, batch_idx, cells[0], labels[truth[i]], *cells[1:]]
                data_idx += 1
            continue
        for i, result in enumerate(callback.predictor(list(batch["im_file"]))):
            predicted, confidence = predicted_boxes(result)
            image = trackway.Image(
                batch["im_file"][i],
                boxes={
                    "ground-truth": {
                        "box_data": ground_truth_boxes(batch, i, labels),
                        "class_labels": labels,
                    },
                    "predictions": {"box_data": predicted, "class_labels": labels},
                },
            )
            yield [data_idx, batch_idx, image, confidence, result.speed]
            data_idx += 1


def prediction_rows(callback, results):
    """Rows (after Model-Name) for `model.predict()` results."""
    for result in results:
        if callback.task == "classify":
            yield _classify_cells(result, result.orig_img[:, :, ::-1])
            continue
        predicted, confidence = predicted_boxes(result)
        boxes = {"predictions": {"box_data": predicted, "class_labels": _labels(result.names)}}
        image = trackway.Image(np.ascontiguousarray(result.orig_img[:, :, ::-1]), boxes=boxes)
        yield [image, len(predicted), confidence, result.speed]
