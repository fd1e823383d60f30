"""Benchmark of the text pipeline: the figures issues #2 and #18 ask for, measured on this machine.

    python bench/bench_text.py                          # every benchmark (about 90 minutes on a 2-core CPU)
    python bench/bench_text.py --only bbc,bbc-cv        # some of them: bbc, bbc-cv, tweets, tweets-text-only,
                                                        # throughput-hf, throughput-ours (after throughput-hf)

Runs train_text.py as a user would and prints each figure next to its target (bench/benchmark.py);
updates bench/results/text.json. Exits non-zero when a target is missed.

- bbc: the default job (`make text`): its wall time and each model's test macro-F1.
- bbc-cv: the two scratch models under 5-fold cross-validation on BBC's training split: is the complex
  one at least as good as the simple one (means over the held-out folds)?
- tweets, tweets-text-only: disaster tweets with and without the keyword column (F1 of the positive class).
- throughput-hf, throughput-ours: the transformer's training samples/s on the tweets, as the Hugging Face
  example script trains it by default (every text padded to 128 tokens, batch 16) and as we do (each
  batch padded to its longest text), same model, data and batch size.
"""

from benchmark import SHARED_DATA, main

TWEETS = SHARED_DATA / "disaster-tweets" / "train.csv"
TWEET_DATA = ["--train_file", str(TWEETS), "--label_column", "target"]
# 1,600 tweets (100 steps of 16) are enough for a steady samples/s; the models are not scored.
THROUGHPUT = [*TWEET_DATA, "--text_column", "keyword,text", "--models", "transformer", "--max_train_samples", "1600",
              "--num_train_epochs", "1", "--per_device_train_batch_size", "16", "--max_seq_length", "128",
              "--top_losses", "0"]  # fmt: skip

BENCHMARKS = {
    "bbc": {
        "args": [],
        "max_wall_s": 15 * 60,
        "metric": "f1_macro",
        "targets": {"transformer": 0.975, "glove-lstm": 0.95},
    },
    "bbc-cv": {
        "args": ["--models", "scratch-simple,scratch-complex", "--cv_folds", "5", "--top_losses", "0"],
        "split": "cv",
        "metric": "f1_macro",
        "relative_targets": {"scratch-complex": ("scratch-simple", -0.005)},
    },
    "tweets": {
        "args": [*TWEET_DATA, "--text_column", "keyword,text"],
        "needs": [TWEETS],
        "metric": "f1_positive",
        "targets": {"transformer": 0.80, "glove-lstm": 0.79, "ensemble": 0.81},
        "best_targets": [(["scratch-simple", "scratch-complex"], 0.76)],
    },
    "tweets-text-only": {
        "args": [*TWEET_DATA, "--text_column", "text"],
        "needs": [TWEETS],
        "metric": "f1_positive",
        "targets": {},
    },
    "throughput-hf": {
        "args": [*THROUGHPUT, "--pad_to_max_length"],
        "needs": [TWEETS],
        "metric": "f1_positive",
        "targets": {},
    },  # fmt: skip
    "throughput-ours": {
        "args": THROUGHPUT,
        "needs": [TWEETS],
        "metric": "f1_positive",
        "targets": {},
        "speedups": {"transformer": (("throughput-hf", "transformer"), 1.8)},
    },
}

if __name__ == "__main__":
    main("train_text.py", BENCHMARKS, "text", __doc__)
