"""The Trainer loop's own guarantees that no lineup test would notice on the CPU defaults."""

from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    PreTrainedTokenizerFast,
    Trainer,
    TrainingArguments,
)

from training.core.experiment import _predict


def test_predictions_come_back_in_order_when_batches_are_grouped_by_length(tmp_path):
    """The text script's GPU default (train_sampling_strategy group_by_length) also shuffles Trainer's prediction
    batches: predictions must still be one per example, in the dataset's order."""
    tokenizer = Tokenizer(models.WordLevel({"[PAD]": 0, "[UNK]": 1, "a": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]")
    texts = ["a " * (i % 17 + 1) for i in range(200)]
    dataset = Dataset.from_dict({"text": texts, "label": [i % 2 for i in range(200)]})
    dataset = dataset.map(lambda batch: fast(batch["text"]), batched=True, remove_columns=["text"])
    config = BertConfig(vocab_size=3, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8)
    args = TrainingArguments(str(tmp_path), train_sampling_strategy="group_by_length", per_device_eval_batch_size=16,
                             report_to="none")  # fmt: skip
    trainer = Trainer(model=BertForSequenceClassification(config), args=args, processing_class=fast,
                      data_collator=DataCollatorWithPadding(fast))  # fmt: skip
    probabilities, labels = _predict(trainer, dataset)
    assert probabilities.shape == (200, 2) and labels.tolist() == dataset["label"]
    assert trainer.args.train_sampling_strategy == "group_by_length"  # training keeps its sampler


def test_a_large_training_split_is_scored_on_a_fixed_stratified_sample(tmp_path):
    """--train_eval_samples: the train figures of every model (and of their ensemble, voted on the same sample) come
    from that many training examples, said wherever the train figures are shown."""
    import json

    from tests.conftest import sentiment_csv_args
    from tests.test_predict import call
    from training.train_text import main

    output = tmp_path / "out"
    argv = [*sentiment_csv_args(tmp_path / "d.csv"), "--models", "scratch-simple,scratch-complex,ensemble",
            "--train_eval_samples", "20", "--num_train_epochs", "1", "--max_seq_length", "16", "--vocab_size", "200",
            "--latency_samples", "2", "--top_losses", "0", "--output_dir", str(output)]  # fmt: skip
    assert call(main, "train_text.py", argv) == 0
    results = json.loads((output / "results.json").read_text())
    for model in results["models"]:
        assert model["train"]["num_examples"] == 20, model["name"]
        assert model["train_evaluation"] == {"sample": 20, "of": 48, "stratified": True}
        assert sum(c["support"] for c in model["train"]["per_class"].values()) == 20
        assert "(train on a stratified sample of 20 of 48)" in results["overfitting"][model["name"]]["text"]
    assert model["validation"]["num_examples"] == 6  # the other splits whole
