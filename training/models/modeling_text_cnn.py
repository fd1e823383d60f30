"""Convolutional text classifier in the style of Kim (2014): embeddings -> parallel 1-D convolutions of
several widths -> ReLU -> max over time -> dropout -> linear. ``pooling="max_bag"`` (the lineup's default)
also feeds the classifier the mean of the embeddings, the bag-of-embeddings view that alone scores well on
topic classification, beside the n-gram detectors.

Each filter detects one n-gram pattern wherever it occurs, which suits topic and keyword-driven labels, and
trains in a fraction of a recurrent network's time on a CPU. Self-contained on purpose (torch +
transformers only): this file ships with the weights.
"""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class TextCNNConfig(PretrainedConfig):
    model_type = "text-cnn-classifier"

    def __init__(
        self,
        vocab_size: int = 20000,
        embedding_dim: int = 128,
        kernel_sizes: list[int] | None = None,
        num_filters: int = 100,
        dropout: float = 0.5,
        pooling: str = "max_bag",
        max_sequence_length: int = 512,
        pad_token_id: int = 0,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.kernel_sizes = list(kernel_sizes or [3, 4, 5])
        self.num_filters = num_filters
        if pooling not in ("max", "max_mean", "max_bag"):
            raise ValueError(f"pooling must be 'max', 'max_mean' or 'max_bag', got {pooling!r}")
        self.dropout = dropout
        self.pooling = pooling
        self.max_sequence_length = max_sequence_length
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class TextCNNForSequenceClassification(PreTrainedModel):
    config_class = TextCNNConfig
    base_model_prefix = "cnn"

    def __init__(self, config: TextCNNConfig):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        self.convolutions = nn.ModuleList(
            nn.Conv1d(config.embedding_dim, config.num_filters, width) for width in config.kernel_sizes
        )
        self.dropout = nn.Dropout(config.dropout)
        features = config.num_filters * len(config.kernel_sizes) * (2 if config.pooling == "max_mean" else 1)
        features += config.embedding_dim if config.pooling == "max_bag" else 0
        self.classifier = nn.Linear(features, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Embedding, nn.Linear, nn.Conv1d)):
            module.reset_parameters()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        # Cut to the trained length, so a caller who forgets truncation=True gets the same answer.
        input_ids = input_ids[:, : self.config.max_sequence_length]
        if attention_mask is None:
            attention_mask = input_ids.ne(self.config.pad_token_id)
        mask = attention_mask[:, : self.config.max_sequence_length].bool()
        weights = mask.unsqueeze(-1).to(self.embeddings.weight.dtype)
        embedded = self.embeddings(input_ids) * weights
        # Every window that starts on a real token exists, its tail past the text zeros: without this, a
        # text alone and the same text padded in a batch would see different windows at their end.
        pad = max(self.config.kernel_sizes) - 1
        states = nn.functional.pad(embedded, (0, 0, 0, pad)).transpose(1, 2)  # (batch, embedding, time) for Conv1d
        mask = nn.functional.pad(mask, (0, pad), value=False)
        pooled = []
        if self.config.pooling == "max_bag":  # the mean of the embeddings beside the n-gram features
            pooled.append(embedded.sum(1) / weights.sum(1).clamp(min=1.0))
        for convolution in self.convolutions:
            features = torch.relu(convolution(states))  # one position per window of the filter's width
            # Only windows that start on a real token count (at least one, so an empty text gives zeros).
            starts = mask[:, : features.shape[2]].clone()
            starts[:, 0] = True
            features = features.masked_fill(~starts.unsqueeze(1), 0.0)
            pooled.append(features.max(2).values)
            if self.config.pooling == "max_mean":  # how often each n-gram pattern occurs, not only whether
                pooled.append(features.sum(2) / starts.sum(1, keepdim=True).to(features.dtype))
        logits = self.classifier(self.dropout(torch.cat(pooled, dim=1)))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
