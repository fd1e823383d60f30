"""Benchmark of the image pipeline: the figures issue #3 asks for, measured on this machine.

    python bench/bench_image.py                    # both benchmarks
    python bench/bench_image.py --only digits      # or --only hymenoptera

Runs train_image.py as a user would and prints each figure next to its target (bench/benchmark.py);
writes bench/results/image.json. Exits non-zero when a target is missed.
"""

from benchmark import SHARED_DATA, main

HYMENOPTERA = SHARED_DATA / "hymenoptera_data"

BENCHMARKS = {
    # The default run: scikit-learn digits, every model, within 10 minutes.
    "digits": {
        "args": [],
        "max_wall_s": 10 * 60,
        "metric": "accuracy",
        "targets": {"pretrained": 0.97, "scratch-simple": 0.95, "scratch-complex": 0.95},
    },
    # Ants vs bees, the PyTorch transfer-learning tutorial's data: no test split, so the validation
    # split is the one scored (the tutorial reports ResNet-18 at 0.93-0.95 after 15-25 min on CPU).
    "hymenoptera": {
        "args": ["--train_dir", str(HYMENOPTERA / "train"), "--validation_dir", str(HYMENOPTERA / "val")],
        "needs": [HYMENOPTERA],
        "metric": "accuracy",
        "split": "validation",
        "targets": {"pretrained": 0.93},
        "max_train_s": {"pretrained": 10 * 60},
    },
}

if __name__ == "__main__":
    main("train_image.py", BENCHMARKS, "image", __doc__)
