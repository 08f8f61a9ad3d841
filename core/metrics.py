"""Summaries of a classifier's answers: confusion matrix, per-class accuracy, worst mistakes."""
import numpy as np


def confusion_matrix(true, pred, num_classes=10):
    """Counts (num_classes, num_classes) int64: [t, p] = how many of class t were predicted p.

    Rows are true classes, columns predicted classes.
    """
    true = _as_class_array(true, num_classes, "true")  # (N,)
    pred = _as_class_array(pred, num_classes, "pred")  # (N,)
    if true.shape != pred.shape:
        raise ValueError(f"true and pred differ in length: {true.shape} vs {pred.shape}")
    cell = true * num_classes + pred  # (N,) flat index of each answer's cell
    counts = np.bincount(cell, minlength=num_classes * num_classes)  # (C*C,)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(matrix):
    """Fraction of each true class predicted correctly, from a confusion matrix -> (C,) float.

    NaN for a class with no examples.
    """
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1)  # (C,)
    correct = np.diag(matrix)  # (C,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, correct / np.maximum(totals, 1), np.nan)


def most_confident_mistakes(probs, labels, k):
    """Indices of up to k wrongly predicted samples, most confident wrong answer first.

    probs (N, C) class probabilities; labels (N,) true classes. The prediction is the
    argmax of each row, its confidence the row's maximum. Ties keep index order.
    """
    probs = np.asarray(probs)
    labels = np.asarray(labels)
    if probs.ndim != 2 or labels.shape != probs.shape[:1]:
        raise ValueError(f"need probs (N, C) and labels (N,), got {probs.shape} and {labels.shape}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    predicted = probs.argmax(axis=1)  # (N,)
    confidence = probs.max(axis=1)  # (N,)
    wrong = np.flatnonzero(predicted != labels)  # (M,)
    order = np.argsort(-confidence[wrong], kind="stable")  # (M,) most confident first
    return wrong[order[:k]]


def _as_class_array(values, num_classes, name):
    """`values` as a 1-D int64 array, checked to hold class numbers 0..num_classes-1."""
    values = np.asarray(values)
    if values.ndim != 1 or not (values.size == 0 or np.issubdtype(values.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of integer classes, got {values.dtype} {values.shape}")
    values = values.astype(np.int64)
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"{name} holds classes outside 0..{num_classes - 1}")
    return values
