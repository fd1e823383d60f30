"""Would refitting the reference on training and validation together reach aeon's figures? (README, "What the
misses are made of".)

    python bench/reference_refit.py                      # the six archives with a figure
    python bench/reference_refit.py ArrowHead,ACSF1

For each archive: the run's data exactly as train_timeseries.py loads it (deduplicated, validation carved from
training with the default seed), the reference built and encoded by the script's own ``prepare``, fitted once on
the training split (as the lineup does) and once on training + validation in that order, each scored on the
test split. Prints the figures; writes bench/results/reference_refit.json.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.train_timeseries import load_data, parse, prepare  # noqa: E402

DATASETS = ["GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "BasicMotions", "ACSF1"]


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else DATASETS
    results = {}
    for name in names:
        args = parse(["--archive_dataset", name, "--models", "reference", "--output_dir", "/tmp/reference-refit"])
        data = load_data(args)
        seed = args.training.seed
        prepared = prepare("reference", args, data, data.splits, seed)
        split = {}
        for key, encoded in prepared.encoded.items():
            rows = encoded.with_format("numpy")
            split[key] = np.asarray(rows["values"]), np.asarray(rows["label"])
        model, (test_x, test_y) = prepared.run.model, split["test"]
        both = tuple(np.concatenate([a, b]) for a, b in zip(split["train"], split["validation"], strict=True))
        scores = {}
        for fitted_on, (x, y) in (("train", split["train"]), ("train+validation", both)):
            model.fit(x, y, seed=seed, validation=split["validation"])
            with torch.no_grad():
                predicted = model(values=torch.as_tensor(test_x)).logits.argmax(1).numpy()
            scores[fitted_on] = round(float((predicted == test_y).mean()), 4)
        results[name] = {"seed": seed, "test_accuracy": scores}
        print(f"{name}: test accuracy fitted on", ", on ".join(f"{k} {v}" for k, v in scores.items()))
    out = ROOT / "bench" / "results" / "reference_refit.json"
    earlier = json.loads(out.read_text()) if out.is_file() else {}
    out.write_text(json.dumps({**earlier, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
