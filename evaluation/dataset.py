"""The labelled claims (claims.jsonl): read strictly, so a typo in a label fails loudly instead of skewing a score."""

import json
from dataclasses import dataclass
from pathlib import Path

from evaluation.metrics import LABELS

CLAIMS_PATH = Path(__file__).resolve().parent / "claims.jsonl"


@dataclass(frozen=True)
class LabelledClaim:
    id: str
    claim: str
    label: str  # one of metrics.LABELS
    note: str  # the fact behind the label, for whoever reads a mistake


def load_claims(path: Path = CLAIMS_PATH) -> list[LabelledClaim]:
    """One JSON object a line (blank lines skipped); ValueError naming the line for anything malformed."""
    claims: list[LabelledClaim] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not JSON ({error.msg})") from None
        if not isinstance(item, dict) or set(item) != {"id", "claim", "label", "note"}:
            raise ValueError(f"{where}: expected an object with exactly id, claim, label and note")
        if not all(isinstance(value, str) and value.strip() for value in item.values()):
            raise ValueError(f"{where}: id, claim, label and note must be non-empty strings")
        if item["label"] not in LABELS:
            raise ValueError(f"{where}: label {item['label']!r} is not one of {', '.join(LABELS)}")
        if item["id"] in seen:
            raise ValueError(f"{where}: duplicate id {item['id']!r}")
        seen.add(item["id"])
        claims.append(LabelledClaim(**item))
    return claims
