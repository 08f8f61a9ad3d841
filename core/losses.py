"""Softmax and cross-entropy, written to stay finite for any finite logits."""
import numpy as np


def softmax(logits):
    """logits: (N, C) -> probabilities (N, C), each row summing to 1."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # largest logit becomes 0: exp never overflows
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_softmax(logits):
    """logits: (N, C) -> log-probabilities (N, C), computed without taking log(0)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits, labels):
    """Mean cross-entropy of a batch and its gradient w.r.t. the logits.

    logits: (N, C); labels: (N,) integers in 0..C-1.
    Returns (loss as a Python float, d_logits (N, C), probabilities (N, C)).
    """
    n = logits.shape[0]
    log_probs = log_softmax(logits)  # (N, C)
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    probs = np.exp(log_probs)  # (N, C)
    d_logits = probs.copy()
    d_logits[rows, labels] -= 1  # d(-log p_y)/d logits = p - onehot(y)
    d_logits /= n  # the loss is a mean over the batch
    return float(loss), d_logits, probs
