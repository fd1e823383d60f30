"""Text classifiers over the mean of token embeddings.

``hidden_layers=0`` (scratch-simple): fastText-style, mean of token embeddings -> dropout -> linear.
``hidden_layers>0``: a deep averaging network (Iyyer et al. 2015, "Deep Unordered Composition Rivals Syntactic
Methods"): the mean goes through ReLU layers before the linear classifier, and word dropout (``word_dropout``:
each token left out of the mean with that probability, in training only) keeps the network from leaning on a few
words.

Self-contained on purpose (torch + transformers only): this file is shipped with the weights.
"""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class BagOfEmbeddingsConfig(PretrainedConfig):
    model_type = "bag-of-embeddings-classifier"

    def __init__(
        self,
        vocab_size: int = 20000,
        embedding_dim: int = 128,
        dropout: float = 0.3,
        max_sequence_length: int = 512,
        pad_token_id: int = 0,
        hidden_layers: int = 0,
        hidden_size: int = 256,
        word_dropout: float = 0.0,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.hidden_layers = hidden_layers
        self.hidden_size = hidden_size
        self.word_dropout = word_dropout
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class BagOfEmbeddingsForSequenceClassification(PreTrainedModel):
    config_class = BagOfEmbeddingsConfig
    base_model_prefix = "bag"

    def __init__(self, config: BagOfEmbeddingsConfig):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        self.dropout = nn.Dropout(config.dropout)
        widths = [config.embedding_dim] + [config.hidden_size] * config.hidden_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.classifier = nn.Linear(widths[-1], config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Embedding, nn.Linear)):
            module.reset_parameters()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        # Cut to the trained length, so a caller who forgets truncation=True gets the same answer.
        input_ids = input_ids[:, : self.config.max_sequence_length]
        if attention_mask is None:
            attention_mask = input_ids.ne(self.config.pad_token_id)
        mask = attention_mask[:, : self.config.max_sequence_length].bool()
        if self.training and self.config.word_dropout > 0:
            kept = mask & (torch.rand(mask.shape, device=mask.device) >= self.config.word_dropout)
            mask = torch.where(kept.any(1, keepdim=True), kept, mask)  # a text keeps at least one of its tokens
        weights = mask.unsqueeze(-1).to(self.embeddings.weight.dtype)
        features = (self.embeddings(input_ids) * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        for layer in self.hidden:
            features = torch.relu(layer(self.dropout(features)))
        logits = self.classifier(self.dropout(features))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
