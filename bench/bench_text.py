"""Benchmark of the text pipeline: the figures issue #2 asks for, measured on this machine.

    python bench/bench_text.py                 # both benchmarks (about 30 minutes on a 2-core CPU)
    python bench/bench_text.py --only bbc      # or --only tweets

Runs train_text.py as a user would and prints each figure next to its target (bench/benchmark.py);
writes bench/results/text.json. Exits non-zero when a target is missed.
"""

from benchmark import SHARED_DATA, main

TWEETS = SHARED_DATA / "disaster-tweets" / "train.csv"

BENCHMARKS = {
    "bbc": {
        "args": [],
        "max_wall_s": 15 * 60,
        "metric": "accuracy",
        "targets": {"transformer": 0.97, "glove-lstm": 0.93, "scratch-simple": 0.90, "scratch-complex": 0.90},
    },
    "tweets": {
        "args": ["--train_file", str(TWEETS), "--text_column", "text", "--label_column", "target"],
        "needs": [TWEETS],
        "metric": "f1_positive",
        "targets": {"transformer": 0.78, "glove-lstm": 0.74, "scratch-simple": 0.70, "scratch-complex": 0.70},
    },
}

if __name__ == "__main__":
    main("train_text.py", BENCHMARKS, "text", __doc__)
