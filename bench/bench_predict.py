"""Speed and memory of ``training/predict.py``, file in and CSV out.

    python bench/bench_predict.py                       # quick runs trained first, then every benchmark
    python bench/bench_predict.py --only throughput     # or: memory

throughput: for the text ``transformer`` (5,000 tweet-length texts) and ``scratch-simple`` (20,000) and the image
``pretrained`` and ``scratch-simple`` (2,000 96x96 TIFF patches, bench/patches.py), predict.py's own rate (reading,
decoding, predicting and writing, from its log) against the bare forward pass of the same model over the same
batches in one process: the texts already in memory (their tokenization counted, as every prediction needs it), the
images already decoded (their processor counted). Target: end to end >= 0.8x the bare rate.
memory: predict.py's peak RSS (the process and its DataLoader workers, os.wait4) for 1,000,000 short texts against
10,000, and for 100,000 images against 10,000 (or a tenth of --large_images), with scratch-simple. Target: at most
20% above.

Models: quick runs (one epoch on a few hundred examples; speed does not depend on how well a model learnt). Writes
bench/results/predict.json; exits non-zero when a target is missed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from patches import write_competition  # noqa: E402

TWEETS = ROOT.parent / "shared" / "data" / "disaster-tweets" / "train.csv"
TEXT_MODELS = {"transformer": 5_000, "scratch-simple": 20_000}  # texts each: about a minute of the transformer
IMAGE_MODELS = ["pretrained", "scratch-simple"]
RATIO_TARGET, RSS_TARGET = 0.8, 1.2


def train(script: str, args: list[str], output: Path) -> None:
    if (output / "results.json").is_file():
        return
    command = [sys.executable, str(ROOT / "training" / script), *args, "--output_dir", str(output),
               "--overwrite_output_dir", "--top_losses", "0", "--latency_samples", "2"]  # fmt: skip
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, capture_output=True)


def predict(model: Path, data: list[str], output: Path) -> tuple[float, float, int]:
    """predict.py in its own process: its rate (inputs/s of its read-predict-write loop), wall time, peak RSS (MB)."""
    command = [sys.executable, str(ROOT / "training" / "predict.py"), "--model", str(model), *data, "--output",
               str(output), "--overwrite_output"]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"predict.py failed:\n{stderr[-3000:]}")
    count, seconds = re.search(r"Predicted (\d+) input\(s\) in ([\d.]+) s", stderr).groups()
    return int(count) / float(seconds), wall, usage.ru_maxrss / 1024


def bare_rate(model: Path, inputs: list, chunk: int = 4096) -> float:
    """Inputs/s of the same batched forward passes, on inputs already in memory."""
    from training.inference.classifiers import load_classifier

    classifier = load_classifier(str(model))
    classifier.probabilities(inputs[:64])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(inputs), chunk):
        classifier.probabilities(inputs[i : i + chunk])
    return len(inputs) / (time.perf_counter() - start)


def tweets(count: int) -> list[str]:
    import csv

    if TWEETS.is_file():
        with TWEETS.open(encoding="utf-8") as handle:
            texts = [row["text"] for row in csv.DictReader(handle)]
    else:  # a fresh clone without ../shared/data: tweet-length sentences of the BBC corpus
        from training.text.data import _load_bbc_news

        texts = [line[:140] for text in _load_bbc_news()["train"]["text"] for line in text.split(". ") if line]
    return [texts[i % len(texts)] for i in range(count)]


def write_texts(path: Path, texts: list[str]) -> Path:
    import pandas as pd

    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(path, index=False)
    return path


def throughput(work: Path, rows: list) -> None:
    from transformers.image_utils import load_image

    for name, count in TEXT_MODELS.items():
        texts = tweets(count)
        text_file = write_texts(work / f"texts-{count}.csv", texts)
        model = work / "text-run" / name
        ours, wall, _ = predict(model, ["--input_file", str(text_file)], work / "out.csv")
        bare = bare_rate(model, texts)
        rows.append(_ratio(f"text {name}, {count:,} texts", ours, bare, wall))
    images = sorted((work / "patches-2000" / "train").glob("*.tif"))[:2000]
    decoded = [load_image(str(p)) for p in images]
    folder = work / "predict-2000"
    if not folder.is_dir():
        folder.mkdir()
        for p in images:
            os.link(p, folder / p.name)
    for name in IMAGE_MODELS:
        model = work / "image-run" / name
        ours, wall, _ = predict(model, ["--image_dir", str(folder)], work / "out.csv")
        bare = bare_rate(model, decoded, chunk=256)
        rows.append(_ratio(f"image {name}, 2,000 96x96 patches", ours, bare, wall))


def _ratio(label: str, ours: float, bare: float, wall: float) -> dict:
    ratio = ours / bare
    print(f"  {label}: predict.py {ours:.0f}/s (wall {wall:.1f} s), bare {bare:.0f}/s: {ratio:.2f}x", flush=True)
    return {"benchmark": label, "predict_per_s": round(ours, 1), "bare_per_s": round(bare, 1),
            "ratio": round(ratio, 3), "target": f">= {RATIO_TARGET}", "ok": ratio >= RATIO_TARGET,
            "wall_s": round(wall, 1)}  # fmt: skip


def memory(work: Path, rows: list, large_images: Path | None = None) -> None:
    model = work / "text-run" / "scratch-simple"
    small = write_texts(work / "texts-10000.csv", tweets(10_000))
    large = write_texts(work / "texts-1000000.csv", tweets(1_000_000))
    rows.append(_rss("text scratch-simple, 1,000,000 vs 10,000 texts", model, ["--input_file", str(small)],
                     ["--input_file", str(large)], work))  # fmt: skip
    if large_images is None:
        large_images = work / "patches-100000" / "test"
        if not large_images.is_dir():
            write_competition(large_images.parent, train=0, test=100_000, seed=5)
    files = sorted(large_images.glob("*.tif"))
    few = work / f"patches-{len(files) // 10}"
    if not few.is_dir():
        few.mkdir()
        for p in files[: len(files) // 10]:
            os.link(p, few / p.name)
    model = work / "image-run" / "scratch-simple"
    rows.append(_rss(f"image scratch-simple, {len(files):,} vs {len(files) // 10:,} patches", model,
                     ["--image_dir", str(few)], ["--image_dir", str(large_images)], work))  # fmt: skip


def _rss(label: str, model: Path, small: list[str], large: list[str], work: Path) -> dict:
    rate_small, wall_small, rss_small = predict(model, small, work / "out.csv")
    rate_large, wall_large, rss_large = predict(model, large, work / "out.csv")
    ratio = rss_large / rss_small
    print(f"  {label}: peak RSS {rss_large:.0f} MB vs {rss_small:.0f} MB ({ratio:.2f}x); {rate_large:.0f}/s, "
          f"wall {wall_large:.0f} s", flush=True)  # fmt: skip
    return {"benchmark": label, "peak_rss_mb_small": round(rss_small), "peak_rss_mb_large": round(rss_large),
            "ratio": round(ratio, 3), "target": f"<= {RSS_TARGET}", "ok": ratio <= RSS_TARGET,
            "large_per_s": round(rate_large, 1), "large_wall_s": round(wall_large, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="throughput,memory", help="throughput, memory or both (comma-separated)")
    parser.add_argument("--work_dir", default=str(ROOT / "outputs" / "bench-predict"))
    parser.add_argument("--fresh", action="store_true", help="train the quick runs again")
    parser.add_argument(
        "--large_images",
        help="memory: a folder of 96-px TIFFs to use instead of writing 100,000 "
        "(e.g. bench_scale.py's outputs/bench-scale/data/test); a tenth of them is the small input",
    )
    args = parser.parse_args()
    work = Path(args.work_dir)
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "patches-2000" / "train_labels.csv").is_file():
        write_competition(work / "patches-2000", train=2000, test=0, seed=3)
    quick = ["--max_train_samples", "300", "--max_eval_samples", "100", "--num_train_epochs", "1"]
    train("train_text.py", ["--models", ",".join(TEXT_MODELS), *quick], work / "text-run")
    patches = work / "patches-2000"
    train("train_image.py", ["--train_dir", str(patches / "train"), "--labels_file", str(patches / "train_labels.csv"),
                             "--models", ",".join(IMAGE_MODELS), *quick], work / "image-run")  # fmt: skip
    rows: list[dict] = []
    large = Path(args.large_images) if args.large_images else None
    for part in [p.strip() for p in args.only.split(",")]:
        if part == "throughput":
            throughput(work, rows)
        else:
            memory(work, rows, large)
    record = {"date": time.strftime("%Y-%m-%d"), "cores": len(os.sched_getaffinity(0)), "rows": rows}
    path = ROOT / "bench" / "results" / "predict.json"
    earlier = json.loads(path.read_text()) if path.is_file() else {}
    kept = [r for r in earlier.get("rows", []) if r["benchmark"] not in {row["benchmark"] for row in rows}]
    path.write_text(json.dumps({**record, "rows": kept + rows}, indent=2) + "\n")
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()
