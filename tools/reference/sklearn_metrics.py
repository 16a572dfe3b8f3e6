#!/usr/bin/python3
"""scikit-learn reference values for protocols/metrics.c and
protocols/linear_probe.c (Debian: apt-get install -y python3-sklearn).

Writes two .gsfx fixtures (float32 tensors, see gsfx.py):

tests/fixtures/sklearn_metrics.gsfx, read by tests/protocols_metrics.c
  cm<i>.*   single-label cases: random truth/predictions (fixed seeds,
            several sizes, some classes absent from truth or predictions, one
            case with ignored labels -1) and sklearn's confusion_matrix,
            accuracy_score, balanced_accuracy_score, recall / f1 / jaccard
            per class (NaN where the C code defines none, see metrics.h),
            f1_score and jaccard_score with average="macro", cohen_kappa_score.
  ap<i>.*   multi-label cases: scores rounded to few decimals (many ties) and
            0/1 targets, sklearn's average_precision_score per class (NaN for
            a class without positives), their mean over classes with
            positives, and the micro AP of the flattened arrays.

tests/fixtures/sklearn_logistic.gsfx, read by tests/protocols_linear_probe.c
  mc.*  multinomial LogisticRegression (lbfgs, tight tolerance) on
        StandardScaler features, C = 1 / (lambda * n_train): coefficients,
        intercepts, test probabilities and accuracy.
  ml.*  the multi-label counterpart: one binary LogisticRegression per class
        with the same C (the C code minimizes their sum jointly).

Run from the repository root:  /usr/bin/python3 tools/reference/sklearn_metrics.py
"""
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, balanced_accuracy_score,
                             cohen_kappa_score, confusion_matrix, f1_score, jaccard_score,
                             recall_score)
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")

# (seed, samples, classes, fraction predicted right, classes never true,
#  classes never predicted, fraction of truth set to the ignore label -1)
CLASSIFICATION_CASES = [
    (11, 40, 3, 0.5, [], [], 0.0),
    (12, 500, 7, 0.6, [5], [2], 0.0),
    (13, 3000, 12, 0.3, [0, 7], [7, 9], 0.0),
    (14, 2000, 6, 0.7, [], [4], 0.15),  # segmentation-like: ignored pixels
]

# (seed, samples, classes, decimals kept in the scores, classes without positives)
AP_CASES = [
    (21, 12, 3, 1, []),
    (22, 200, 5, 2, [3]),
    (23, 1000, 10, 2, []),
    (24, 500, 8, 1, [0, 6]),
]

LAMBDA = 1e-2


def per_class(metric, truth, pred, labels, classes):
    """metric(average=None) over `labels`, spread to all classes with NaN elsewhere."""
    out = np.full(classes, np.nan)
    if len(labels):
        out[labels] = metric(truth, pred, labels=labels, average=None)
    return out


def classification_case(index, case):
    seed, n, classes, right, never_true, never_pred, ignored = case
    rng = np.random.default_rng(seed)
    allowed_true = [c for c in range(classes) if c not in never_true]
    allowed_pred = [c for c in range(classes) if c not in never_pred]
    truth = rng.choice(allowed_true, size=n)
    pred = rng.choice(allowed_pred, size=n)
    keep = (rng.random(n) < right) & np.isin(truth, allowed_pred)
    pred[keep] = truth[keep]
    truth_stored = truth.copy()
    truth_stored[rng.random(n) < ignored] = -1
    mask = truth_stored != -1
    t, p = truth_stored[mask], pred[mask]

    present = np.union1d(t, p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)  # balanced accuracy: classes predicted, never true
        out = [
            ("truth", truth_stored), ("pred", pred),
            ("confusion", confusion_matrix(t, p, labels=range(classes))),
            ("accuracy", [accuracy_score(t, p)]),
            ("balanced_accuracy", [balanced_accuracy_score(t, p)]),
            ("recall", per_class(recall_score, t, p, np.unique(t), classes)),
            ("f1", per_class(f1_score, t, p, present, classes)),
            ("iou", per_class(jaccard_score, t, p, present, classes)),
            ("macro_f1", [f1_score(t, p, average="macro")]),
            ("miou", [jaccard_score(t, p, average="macro")]),
            ("kappa", [cohen_kappa_score(t, p)]),
            ("ignored", [np.count_nonzero(~mask)]),
        ]
    return [("cm%d.%s" % (index, name), np.asarray(value, dtype=np.float64)) for name, value in out]


def ap_case(index, case):
    seed, n, classes, decimals, no_positives = case
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, classes)) < rng.uniform(0.1, 0.5, classes)).astype(np.uint8)
    targets[:, no_positives] = 0
    # Informative but noisy scores; rounding makes many exact ties.
    scores = np.round(0.35 * targets + rng.random((n, classes)), decimals).astype(np.float32)
    if index == 0:
        scores[:, 0] = 0.5  # one class where every score ties
    s64 = scores.astype(np.float64)
    ap = np.full(classes, np.nan)
    for k in range(classes):
        if targets[:, k].any():
            ap[k] = average_precision_score(targets[:, k], s64[:, k])
    out = [
        ("scores", scores), ("targets", targets), ("ap", ap),
        ("macro", [np.nanmean(ap)]),
        ("micro", [average_precision_score(targets.ravel(), s64.ravel())]),
    ]
    return [("ap%d.%s" % (index, name), np.asarray(value, dtype=np.float64)) for name, value in out]


def blobs(rng, n, dim, classes, centers, scale, offset):
    labels = rng.integers(0, classes, n)
    x = centers[labels] + rng.normal(size=(n, dim))
    return (x * scale + offset).astype(np.float32), labels


def logistic_cases():
    rng = np.random.default_rng(31)
    dim, classes, n_train, n_test = 6, 4, 150, 80
    centers = rng.normal(scale=1.2, size=(classes, dim))
    # Features on very different scales and offsets: standardization matters.
    scale = np.array([1.0, 10.0, 0.1, 3.0, 100.0, 0.5])
    offset = np.array([0.0, -5.0, 2.0, 40.0, 0.0, 1.0])
    x_train, y_train = blobs(rng, n_train, dim, classes, centers, scale, offset)
    x_test, y_test = blobs(rng, n_test, dim, classes, centers, scale, offset)
    scaler = StandardScaler().fit(x_train.astype(np.float64))
    c = 1.0 / (LAMBDA * n_train)
    model = LogisticRegression(multi_class="multinomial", C=c, solver="lbfgs", tol=1e-12, max_iter=100000)
    model.fit(scaler.transform(x_train.astype(np.float64)), y_train)
    proba = model.predict_proba(scaler.transform(x_test.astype(np.float64)))
    out = [
        ("mc.lambda", [LAMBDA]), ("mc.x_train", x_train), ("mc.y_train", y_train),
        ("mc.x_test", x_test), ("mc.y_test", y_test),
        ("mc.coef", model.coef_.T), ("mc.intercept", model.intercept_),
        ("mc.proba", proba), ("mc.accuracy", [np.mean(proba.argmax(1) == y_test)]),
    ]

    # Multi-label: class k is present when a noisy linear score passes a threshold.
    n_labels = 3
    directions = rng.normal(size=(dim, n_labels))
    def targets_of(x):
        z = scaler.transform(x.astype(np.float64)) @ directions + rng.normal(scale=1.0, size=(len(x), n_labels))
        return (z > 0.3).astype(np.uint8)
    t_train, t_test = targets_of(x_train), targets_of(x_test)
    coef = np.zeros((dim, n_labels))
    intercept = np.zeros(n_labels)
    ml_proba = np.zeros((n_test, n_labels))
    for k in range(n_labels):
        binary = LogisticRegression(C=c, solver="lbfgs", tol=1e-12, max_iter=100000)
        binary.fit(scaler.transform(x_train.astype(np.float64)), t_train[:, k])
        coef[:, k] = binary.coef_[0]
        intercept[k] = binary.intercept_[0]
        ml_proba[:, k] = binary.predict_proba(scaler.transform(x_test.astype(np.float64)))[:, 1]
    out += [
        ("ml.t_train", t_train), ("ml.t_test", t_test),
        ("ml.coef", coef), ("ml.intercept", intercept), ("ml.proba", ml_proba),
    ]
    return [(name, np.asarray(value, dtype=np.float64)) for name, value in out]


def main():
    tensors = [("cm.cases", [len(CLASSIFICATION_CASES)]), ("ap.cases", [len(AP_CASES)])]
    for i, case in enumerate(CLASSIFICATION_CASES):
        tensors += classification_case(i, case)
    for i, case in enumerate(AP_CASES):
        tensors += ap_case(i, case)
    gsfx.write(os.path.join(FIXTURES, "sklearn_metrics.gsfx"), tensors)
    gsfx.write(os.path.join(FIXTURES, "sklearn_logistic.gsfx"), logistic_cases())
    print("wrote sklearn_metrics.gsfx and sklearn_logistic.gsfx with scikit-learn", sklearn.__version__)


if __name__ == "__main__":
    main()
