"""Shared fixtures. Every test runs offline: nothing may reach the Hugging Face Hub."""

import csv
import os
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"benchmark data not found at {SHARED_DATA} (present in CI; a fresh clone has no ../shared/data)",
)


def write_csv(path: Path, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def sentiment_rows() -> list[dict]:
    """60 short, clearly labelled texts in two classes (distinct, so deduplication keeps them all)."""
    good = ["great", "lovely", "excellent", "wonderful", "superb", "fantastic"]
    bad = ["awful", "terrible", "dreadful", "horrible", "poor", "bad"]
    things = ["film", "meal", "hotel", "book", "concert"]
    rows = []
    for i, (word_good, word_bad) in enumerate(zip(good, bad, strict=True)):
        for thing in things:
            rows.append({"id": len(rows), "review": f"a {word_good} {thing} number {i}", "sentiment": "positive"})
            rows.append({"id": len(rows), "review": f"a {word_bad} {thing} number {i}", "sentiment": "negative"})
    return rows
