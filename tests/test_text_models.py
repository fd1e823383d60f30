"""Tokenizers and forward passes of the text lineup (tiny sizes, CPU, seconds)."""

import numpy as np
import pytest
import torch

from training.models.modeling_bag_of_embeddings import BagOfEmbeddingsConfig, BagOfEmbeddingsForSequenceClassification
from training.models.modeling_text_cnn import TextCNNConfig, TextCNNForSequenceClassification
from training.models.modeling_text_rnn import TextRNNConfig, TextRNNForSequenceClassification
from training.text.lineup import TEXT_MODELS, TextModelArguments
from training.text.tokenizers import glove_files, glove_tokenizer_and_vectors, train_wordpiece_tokenizer

TEXTS = [f"the {w} market rose by {i} percent today" for i, w in enumerate(["stock", "bond", "oil"] * 10)] + [
    f"the {w} team won the match {i} to nil" for i, w in enumerate(["home", "away", "cup"] * 10)
]
LABELS = ["business", "sport"]


def test_wordpiece_tokenizer_is_trained_on_the_given_texts_and_round_trips(tmp_path):
    tokenizer = train_wordpiece_tokenizer(TEXTS, vocab_size=200, max_length=6)
    assert tokenizer.pad_token_id == 0 and tokenizer.unk_token == "[UNK]"
    encoded = tokenizer("The STOCK market", truncation=True)
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"]) == ["the", "stock", "market"]
    assert len(tokenizer("one two three four five six seven eight", truncation=True)["input_ids"]) == 6
    tokenizer.save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded("The STOCK market")["input_ids"] == encoded["input_ids"]
    assert reloaded.model_max_length == 6


def test_glove_tokenizer_follows_glove_conventions_and_copies_its_vectors():
    import pandas as pd

    tokenizer, vectors, coverage = glove_tokenizer_and_vectors(["Zyxwv: panic"], vocab_size=1000, max_length=32)
    tokens = tokenizer.convert_ids_to_tokens(tokenizer("It's the Market, don't panic!")["input_ids"])
    assert tokens == ["it", "'s", "the", "market", ",", "do", "n't", "panic", "!"]
    assert tokenizer.convert_ids_to_tokens(tokenizer("zyxwvq")["input_ids"]) == ["[UNK]"]
    emb_path, index_path = glove_files()
    words = pd.read_parquet(index_path)["index"].tolist()
    glove = np.load(emb_path, mmap_mode="r")
    market = tokenizer.convert_tokens_to_ids("market")
    np.testing.assert_array_equal(vectors[market], glove[words.index("market")])
    assert not vectors[0].any()  # padding row
    assert vectors.shape == (len(tokenizer), 50)
    assert coverage["vocabulary_size"] == 1003  # top 1000 + "panic" (a training word) + [PAD] + [UNK]
    assert coverage["train_type_coverage"] == pytest.approx(2 / 3, abs=1e-3)  # "zyxwv" is not in GloVe


@pytest.mark.parametrize(
    "model",
    [
        BagOfEmbeddingsForSequenceClassification(BagOfEmbeddingsConfig(vocab_size=50, embedding_dim=8, num_labels=3)),
        BagOfEmbeddingsForSequenceClassification(
            BagOfEmbeddingsConfig(
                vocab_size=50, embedding_dim=8, hidden_layers=2, hidden_size=6, word_dropout=0.5, num_labels=3
            )  # fmt: skip
        ),
        TextCNNForSequenceClassification(TextCNNConfig(vocab_size=50, embedding_dim=8, num_filters=4, num_labels=3)),
        TextRNNForSequenceClassification(TextRNNConfig(vocab_size=50, embedding_dim=8, hidden_size=6, num_labels=3)),
        TextRNNForSequenceClassification(
            TextRNNConfig(
                vocab_size=50, embedding_dim=8, hidden_size=6, cell="lstm", pooling="max", num_layers=2, num_labels=3
            )  # fmt: skip
        ),
        TextRNNForSequenceClassification(
            TextRNNConfig(
                vocab_size=50, embedding_dim=8, hidden_size=6, pooling="mean", bidirectional=False, num_labels=3
            )  # fmt: skip
        ),
    ],
    ids=["bag", "dan", "cnn-max-bag", "bigru-attention", "lstm-max", "gru-mean-unidirectional"],
)
def test_forward_pass_loss_and_padding_invariance(model):
    model.eval()
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    out = model(input_ids=ids, attention_mask=mask, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3) and out.loss.ndim == 0 and torch.isfinite(out.loss)
    # Padding must not change the answer: the same text alone, without padding.
    alone = model(input_ids=torch.tensor([[9, 10]]), attention_mask=torch.tensor([[1, 1]])).logits
    torch.testing.assert_close(out.logits[1:], alone, rtol=1e-5, atol=1e-5)
    out.loss.backward()


def test_deep_averaging_network_drops_words_in_training_only():
    """Word dropout leaves tokens out of the mean while training (a different mean each step, never an empty
    one); evaluation reads every token, the same answer each time."""
    config = BagOfEmbeddingsConfig(vocab_size=50, embedding_dim=8, hidden_layers=2, hidden_size=6, word_dropout=0.5,
                                   dropout=0.0, num_labels=3)  # fmt: skip
    model = BagOfEmbeddingsForSequenceClassification(config)
    assert [tuple(layer.weight.shape) for layer in model.hidden] == [(6, 8), (6, 6)]
    ids, mask = torch.tensor([[5, 6, 7, 8, 9, 10]]), torch.ones(1, 6, dtype=torch.long)
    torch.manual_seed(0)
    model.train()
    trained = {tuple(model(input_ids=ids, attention_mask=mask).logits[0].tolist()) for _ in range(20)}
    assert len(trained) > 5
    model.config.word_dropout = 0.99
    one = {"input_ids": torch.tensor([[7, 0]]), "attention_mask": torch.tensor([[1, 0]])}
    single = [model(**one).logits for _ in range(5)]  # a one-token text keeps its token
    model.eval()
    for logits in single:
        torch.testing.assert_close(logits, model(**one).logits)
    first, again = (model(input_ids=ids, attention_mask=mask).logits for _ in range(2))
    torch.testing.assert_close(first, again, rtol=0, atol=0)


def test_backward_direction_reads_each_text_reversed_within_its_length():
    from training.models.modeling_text_rnn import reverse_within_length

    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]).unsqueeze(-1)
    reversed_x = reverse_within_length(x, torch.tensor([3, 2]))
    assert reversed_x.squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]
    torch.testing.assert_close(reverse_within_length(reversed_x, torch.tensor([3, 2])), x)


def test_models_cut_inputs_to_their_trained_length():
    config = TextRNNConfig(vocab_size=50, embedding_dim=8, hidden_size=6, num_labels=2, max_sequence_length=3)
    model = TextRNNForSequenceClassification(config).eval()
    long = model(input_ids=torch.tensor([[5, 6, 7, 8, 9]]), attention_mask=torch.ones(1, 5, dtype=torch.long))
    cut = model(input_ids=torch.tensor([[5, 6, 7]]), attention_mask=torch.ones(1, 3, dtype=torch.long))
    torch.testing.assert_close(long.logits, cut.logits)


def test_frozen_glove_embeddings_are_not_trainable():
    config = TextRNNConfig(vocab_size=50, embedding_dim=8, hidden_size=6, num_labels=2, freeze_embeddings=True)
    model = TextRNNForSequenceClassification(config)
    assert not model.embeddings.weight.requires_grad
    assert model.num_parameters(only_trainable=True) == model.num_parameters() - 50 * 8


@pytest.mark.parametrize("name", list(TEXT_MODELS))
def test_every_lineup_builder_gives_a_model_that_runs_on_its_tokenizer(name):
    run = TEXT_MODELS[name].build(TextModelArguments(vocab_size=200, glove_vocab_size=500), TEXTS, LABELS, 16)
    assert run.model.config.id2label == {0: "business", 1: "sport"}
    batch = run.processor(TEXTS[:2], truncation=True, max_length=16, padding=True, return_tensors="pt")
    batch.pop("token_type_ids", None)
    with torch.no_grad():
        assert run.model(**batch).logits.shape == (2, 2)
