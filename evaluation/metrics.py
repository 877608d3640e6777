"""Scoring: the analyzer's six verdicts collapsed onto the set's four labels, then accuracy, per-label
precision/recall/F1, macro-F1 and a confusion matrix. Plain Python, so the figures are easy to check by hand."""

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LABELS = ("TRUE", "FALSE", "MIXED", "UNVERIFIABLE")
ERROR = "ERROR"  # the prediction of an analyze() that raised: always wrong
PREDICTIONS = (*LABELS, ERROR)

# The set labels whole claims in four classes; the analyzer's graded verdicts count as their side.
_COLLAPSED = {"MOSTLY_TRUE": "TRUE", "MOSTLY_FALSE": "FALSE"}


def collapse(verdict: str) -> str:
    """The label a verdict scores as: MOSTLY_TRUE is TRUE, MOSTLY_FALSE is FALSE, the others stay as they are."""
    prediction = _COLLAPSED.get(verdict, verdict)
    if prediction not in PREDICTIONS:
        raise ValueError(f"not a verdict: {verdict!r}")
    return prediction


@dataclass(frozen=True)
class LabelScore:
    """One label's figures. precision is None with no predictions of the label, recall None with no support,
    f1 None when both are missing (the label played no part, so it is left out of the macro average)."""

    label: str
    support: int  # claims with this label
    predicted: int  # predictions of this label
    correct: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class Scores:
    total: int
    correct: int
    accuracy: float
    per_label: tuple[LabelScore, ...]
    macro_f1: float | None
    confusion: dict[str, dict[str, int]]  # label -> prediction (ERROR included) -> count


def label_score(label: str, support: int, predicted: int, correct: int) -> LabelScore:
    """A label with support but no correct prediction scores F1 0, and so does one predicted but never right
    (false alarms on a label the sample lacks are still mistakes); only a label absent from both is excluded."""
    precision = correct / predicted if predicted else None
    recall = correct / support if support else None
    if precision is None and recall is None:
        return LabelScore(label, support, predicted, correct, None, None, None)
    p, r = precision or 0.0, recall or 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return LabelScore(label, support, predicted, correct, precision, recall, f1)


def score(pairs: Iterable[tuple[str, str]]) -> Scores:
    """Scores (label, prediction) pairs; predictions are already collapsed (see `collapse`) or ERROR."""
    confusion = {label: dict.fromkeys(PREDICTIONS, 0) for label in LABELS}
    for label, prediction in pairs:
        if label not in LABELS:
            raise ValueError(f"not a label: {label!r}")
        if prediction not in PREDICTIONS:
            raise ValueError(f"not a prediction: {prediction!r}")
        confusion[label][prediction] += 1
    total = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[label][label] for label in LABELS)
    per_label = tuple(
        label_score(
            label,
            support=sum(confusion[label].values()),
            predicted=sum(confusion[gold][label] for gold in LABELS),
            correct=confusion[label][label],
        )
        for label in LABELS
    )
    f1s = [item.f1 for item in per_label if item.f1 is not None]
    return Scores(
        total=total,
        correct=correct,
        accuracy=correct / total if total else 0.0,
        per_label=per_label,
        macro_f1=sum(f1s) / len(f1s) if f1s else None,
        confusion=confusion,
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: always one of the measured values, which is what a latency figure should be."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
