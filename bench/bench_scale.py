"""The cancer-patch competition's scale on one machine: 220,025 training images, 57,458 to predict.

    python bench/bench_scale.py                          # every part; the synthetic set is written once (minutes)
    python bench/bench_scale.py --only prepare,submit    # some parts: prepare, quick, submit, defaults

Data: bench/patches.py's synthetic set shaped like the competition's (uncompressed 96x96 RGB TIFFs, train/<id>.tif
with train_labels.csv, about 40% positive, the label in the centre 32x32 region; test/ and sample_submission.csv).

- prepare: ``train_image.py --labels_file ... --models scratch-simple --max_steps 50`` without evaluation: each
  data-preparation stage's time (from the script's log), the time until the model is built, peak RSS (the process
  and its DataLoader workers, os.wait4), and training images/s against the bare model's forward+backward+step at
  the same batch size (random pixels, one process). Targets: preparation <= 300 s, peak RSS < 4 GB, training >= 0.8x.
- quick: the same 20-step run with the defaults (evaluation, the train split scored on its sample, every output
  written). Target: <= 12 minutes.
- submit: ``predict.py --run ... --image_dir test/ --sample_submission ... --submission_value probability`` over the
  57,458 test images. Targets: <= 10 minutes, peak RSS < 4 GB.
- defaults: scratch-simple on 3,000 patches (6 epochs; split 80/10/10) at the images' own 96 px against the 128-px
  upscale, with the crop augmentation, flips and quarter turns, or none: test ROC-AUC and accuracy.

Writes bench/results/scale.json (each part's figures, kept across partial reruns); exits non-zero when a target is
missed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from patches import write_competition  # noqa: E402

TRAIN, TEST = 220_025, 57_458
PREPARE_S, RSS_MB, TRAIN_RATIO, QUICK_S, SUBMIT_S = 300, 4096, 0.8, 720, 600
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def run(command: list[str], log: Path) -> tuple[float, float, list[tuple[float, str]]]:
    """``command`` in its own process: wall seconds, peak RSS (MB) and its log lines with their seconds from the
    start (lines without a timestamp get none)."""
    print("$", " ".join(command), flush=True)
    start, started = time.perf_counter(), datetime.now()
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed (see {log}):\n{log.read_text()[-3000:]}")
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        found = STAMP.match(line)
        at = (datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f") - started).total_seconds() if found else None
        lines.append((at, line))
    return wall, usage.ru_maxrss / 1024, lines


def stages(lines: list[tuple[float, str]]) -> dict[str, float]:
    """The data steps the script timed (``training.core.progress.timed``: 'What: 12.3 s')."""
    found = {}
    for _, line in lines:
        match = re.search(r"training\.core\.progress: (.+): ([\d.]+) s$", line)
        if match:
            found[match.group(1).replace(f"{ROOT}/", "")] = float(match.group(2))
    return found


def built_at(lines: list[tuple[float, str]], model: str) -> float:
    return next(at for at, line in lines if at is not None and f"Built {model}:" in line)


def bare_training_rate(image_size: int, batch: int, steps: int = 20) -> float:
    """Images/s of the lineup's scratch-simple, forward + backward + AdamW step on random pixels."""
    import torch

    from training.image.lineup import IMAGE_MODELS, ImageModelArguments

    torch.manual_seed(0)
    model = IMAGE_MODELS["scratch-simple"].build(ImageModelArguments(image_size=image_size), ["0", "1"], False).model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    pixels, labels = torch.randn(batch, 3, image_size, image_size), torch.randint(0, 2, (batch,))
    for step in range(steps + 3):
        if step == 3:
            start = time.perf_counter()
        loss = model(pixel_values=pixels, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return steps * batch / (time.perf_counter() - start)


def prepare(data: Path, work: Path) -> list[dict]:
    output = work / "prepare"
    command = [sys.executable, str(ROOT / "training" / "train_image.py"), "--train_dir", str(data / "train"),
               "--labels_file", str(data / "train_labels.csv"), "--models", "scratch-simple", "--max_steps", "50",
               "--eval_strategy", "no", "--save_strategy", "no", "--load_best_model_at_end", "False",
               "--early_stopping_patience", "0",
               "--top_losses", "0", "--output_dir", str(output), "--overwrite_output_dir"]  # fmt: skip
    wall, rss, lines = run(command, work / "prepare.log")
    metrics = json.loads((output / "scratch-simple" / "metrics.json").read_text())
    hyper = metrics["hyperparameters"]
    ours = 50 * hyper["per_device_train_batch_size"] / metrics["train_runtime_s"]
    bare = bare_training_rate(hyper["image_size"], hyper["per_device_train_batch_size"])
    ready = built_at(lines, "scratch-simple")
    return [
        {"figure": "data preparation until the model is built (s)", "value": round(ready, 1),
         "target": f"<= {PREPARE_S}", "ok": ready <= PREPARE_S, "stages_s": stages(lines)},
        {"figure": "peak RSS, 50 training steps (MB)", "value": round(rss), "target": f"< {RSS_MB}",
         "ok": rss < RSS_MB},
        {"figure": "training images/s vs bare forward+backward", "value": round(ours / bare, 3),
         "target": f">= {TRAIN_RATIO}", "ok": ours / bare >= TRAIN_RATIO, "training_per_s": round(ours, 1),
         "bare_per_s": round(bare, 1), "image_size": hyper["image_size"],
         "batch_size": hyper["per_device_train_batch_size"]},
        {"figure": "wall, 50 steps without evaluation (s)", "value": round(wall, 1), "target": "", "ok": True},
    ]  # fmt: skip


def quick(data: Path, work: Path) -> list[dict]:
    output = work / "quick"
    command = [sys.executable, str(ROOT / "training" / "train_image.py"), "--train_dir", str(data / "train"),
               "--labels_file", str(data / "train_labels.csv"), "--models", "scratch-simple", "--max_steps", "20",
               "--primary_metric", "roc_auc", "--output_dir", str(output), "--overwrite_output_dir"]  # fmt: skip
    wall, rss, lines = run(command, work / "quick.log")
    results = json.loads((output / "results.json").read_text())
    model = results["models"][0]
    return [
        {"figure": "20-step default run, every output written (s)", "value": round(wall, 1),
         "target": f"<= {QUICK_S}", "ok": wall <= QUICK_S, "stages_s": stages(lines),
         "train_scored_on": model.get("train_evaluation"), "test_roc_auc": round(model["test"]["roc_auc"], 4)},
        {"figure": "peak RSS, 20-step default run (MB)", "value": round(rss), "target": f"< {RSS_MB}",
         "ok": rss < RSS_MB},
    ]  # fmt: skip


def submit(data: Path, work: Path) -> list[dict]:
    run_dir = work / "quick"
    if not (run_dir / "results.json").is_file():
        raise SystemExit("submit predicts with the quick part's run: run --only quick first.")
    output = work / "submission.csv"
    command = [sys.executable, str(ROOT / "training" / "predict.py"), "--run", str(run_dir), "--image_dir",
               str(data / "test"), "--sample_submission", str(data / "sample_submission.csv"), "--submission_value",
               "probability", "--output", str(output), "--overwrite_output"]  # fmt: skip
    wall, rss, lines = run(command, work / "submit.log")
    rows = output.read_text().count("\n") - 1
    return [
        {"figure": f"predict.py, {rows:,} test images to a submission (s)", "value": round(wall, 1),
         "target": f"<= {SUBMIT_S}", "ok": wall <= SUBMIT_S and rows == TEST},
        {"figure": "peak RSS, predict.py (MB)", "value": round(rss), "target": f"< {RSS_MB}", "ok": rss < RSS_MB},
    ]  # fmt: skip


def defaults(data: Path, work: Path) -> list[dict]:
    """96 vs 128 px and the augmentations, on a 3,000-patch subset (test split carved by the script)."""
    subset = work / "subset_labels.csv"
    lines = (data / "train_labels.csv").read_text().splitlines()
    subset.write_text("\n".join(lines[:3001]) + "\n")
    rows = []
    for size, augment in [(128, "flip_crop"), (96, "flip_crop"), (96, "flip_rotate"), (96, "none")]:
        output = work / f"defaults-{size}-{augment}"
        command = [sys.executable, str(ROOT / "training" / "train_image.py"), "--train_dir", str(data / "train"),
                   "--labels_file", str(subset), "--models", "scratch-simple", "--image_size", str(size),
                   "--augmentation", augment, "--num_train_epochs", "6", "--primary_metric", "roc_auc",
                   "--allow_missing_images",
                   "--top_losses", "0", "--output_dir", str(output), "--overwrite_output_dir"]  # fmt: skip
        wall, _, _ = run(command, work / f"defaults-{size}-{augment}.log")
        model = json.loads((output / "results.json").read_text())["models"][0]
        rows.append({"figure": f"scratch-simple at {size} px, augmentation {augment}: test ROC-AUC",
                     "value": round(model["test"]["roc_auc"], 4), "test_accuracy": round(model["test"]["accuracy"], 4),
                     "epochs_trained": model["epochs_trained"], "train_runtime_s": model["train_runtime_s"],
                     "wall_s": round(wall, 1), "target": "", "ok": True})  # fmt: skip
    return rows


PARTS = {"prepare": prepare, "quick": quick, "submit": submit, "defaults": defaults}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {', '.join(PARTS)}")
    parser.add_argument("--data_dir", default=str(ROOT / "outputs" / "bench-scale" / "data"))
    parser.add_argument("--work_dir", default=str(ROOT / "outputs" / "bench-scale"))
    args = parser.parse_args()
    data, work = Path(args.data_dir), Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    if not (data / "sample_submission.csv").is_file():
        start = time.perf_counter()
        print(f"Writing the synthetic set ({TRAIN:,} + {TEST:,} TIFFs) to {data}", flush=True)
        write_competition(data, TRAIN, TEST)
        print(f"  {time.perf_counter() - start:.0f} s", flush=True)
    path = ROOT / "bench" / "results" / "scale.json"
    record = json.loads(path.read_text()) if path.is_file() else {}
    for part in [p.strip() for p in args.only.split(",")]:
        rows = PARTS[part](data, work)
        for row in rows:
            print(f"  {row['figure']:<58} {row['value']!s:>10}  {row['target']:<8} {'PASS' if row['ok'] else 'FAIL'}")
        record[part] = {"date": time.strftime("%Y-%m-%d"), "cores": len(os.sched_getaffinity(0)), "rows": rows}
        path.write_text(json.dumps(record, indent=2) + "\n")
    sys.exit(0 if all(r["ok"] for part in record.values() for r in part["rows"]) else 1)


if __name__ == "__main__":
    main()
