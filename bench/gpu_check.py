"""GPU check: the default lineups on the GPU(s) of this machine, compared with the CPU figures.

    bash bench/gpu_check.sh                   # or: python bench/gpu_check.py [--data_root DIR]

Runs, as a user would (``accelerate launch``), BBC News with the text lineup, the digits with the image
lineup and hymenoptera with ``pretrained`` (when its data is there), on one process, then on two
processes (DDP) where there are two GPUs. Prints each model's training samples/s and test metric, and
whether that metric matches the CPU run's in ``bench/results/{text,image}.json`` (within the test set's
noise; training on a GPU is not bit-identical to the CPU). Writes ``bench/results/gpu.json`` (and
``$OUT/gpu.json`` when OUT is set). About 5 minutes on one H100-class GPU; never run by CI or tests.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
from benchmark import ROOT, SHARED_DATA, run

sys.path.insert(0, str(ROOT))
from training.reporting.insights import NOISE_Z, standard_error  # noqa: E402


def benchmarks(data_root: Path) -> dict[str, tuple[str, dict, str]]:
    """name -> (script, benchmark spec, the CPU results file and entry it is compared with)."""
    hymenoptera = data_root / "hymenoptera_data"
    found = {
        "text-bbc": ("train_text.py", {"args": [], "metric": "f1_macro", "targets": {}}, "text/bbc"),
        "image-digits": ("train_image.py", {"args": [], "metric": "accuracy", "targets": {}}, "image/digits"),
    }
    if hymenoptera.is_dir():
        folders = ["--train_dir", str(hymenoptera / "train"), "--validation_dir", str(hymenoptera / "val")]
        spec = {
            "args": ["--models", "pretrained", *folders],
            "metric": "accuracy",
            "split": "validation",
            "targets": {},
        }
        found["image-hymenoptera"] = ("train_image.py", spec, "image/hymenoptera")
    else:
        print(f"hymenoptera skipped: {hymenoptera} not found (--data_root)")
    return found


def compare(split: str, metric: str, cpu_entry: str, output: Path) -> list[dict]:
    """Each model's samples/s and ``metric``, and whether it is within noise of the CPU figure."""
    results = json.loads((output / "results.json").read_text())
    file, key = cpu_entry.split("/")
    cpu_rows = json.loads((ROOT / "bench" / "results" / f"{file}.json").read_text())[key]["rows"]
    cpu = {label: value for label, value, _ in cpu_rows}
    rows = []
    for model in results["models"]:
        value, n = model[split][metric], model[split]["num_examples"]
        reference = cpu.get(f"{model['name']} {split} {metric}")
        noise = (
            None if reference is None else NOISE_Z * math.hypot(standard_error(value, n), standard_error(reference, n))
        )
        rows.append({
            "model": model["name"], "training_device": model["training_device"], "world_size": model["world_size"],
            "train_samples_per_second": model["train_samples_per_second"], "train_runtime_s": model["train_runtime_s"],
            f"{split}_{metric}": round(value, 4), f"cpu_{metric}": reference,
            "matches_cpu": None if reference is None else abs(value - reference) <= noise,
        })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_root", default=str(SHARED_DATA), help="folder holding hymenoptera_data/")
    parser.add_argument("--output_root", default=str(ROOT / "outputs" / "gpu-check"))
    parser.add_argument("--only", default="", help="comma-separated benchmark names (text-bbc, image-digits, ...)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA GPU here (it checks the GPU defaults; the CPU figures are in bench/results).")
    gpus = torch.cuda.device_count()
    report = {"gpu": f"{torch.cuda.get_device_name(0)} x {gpus}", "date": time.strftime("%Y-%m-%d"), "runs": {}}
    start = time.perf_counter()
    for processes in [1, 2] if gpus >= 2 else [1]:
        for name, (script, spec, cpu_entry) in benchmarks(Path(args.data_root)).items():
            if args.only and name not in args.only.split(","):
                continue
            label = f"{name}-x{processes}"
            figures = run(script, label, spec, Path(args.output_root), processes=processes)
            models = compare(spec.get("split", "test"), spec["metric"], cpu_entry, Path(args.output_root) / label)
            report["runs"][label] = {"wall_s": figures["wall_s"], "command": figures["command"], "models": models}
    report["wall_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, indent=2))
    text = json.dumps(report, indent=2) + "\n"
    (ROOT / "bench" / "results" / "gpu.json").write_text(text)
    if os.environ.get("OUT"):
        (Path(os.environ["OUT"]) / "gpu.json").write_text(text)


if __name__ == "__main__":
    main()
