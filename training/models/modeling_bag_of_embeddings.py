"""fastText-style text classifier: mean of token embeddings -> dropout -> linear.

Self-contained on purpose (torch + transformers only): this file is shipped with the weights.
"""

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
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class BagOfEmbeddingsForSequenceClassification(PreTrainedModel):
    config_class = BagOfEmbeddingsConfig
    base_model_prefix = "bag"

    def __init__(self, config: BagOfEmbeddingsConfig):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.embedding_dim, config.num_labels)
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
        mask = attention_mask[:, : self.config.max_sequence_length].unsqueeze(-1).to(self.embeddings.weight.dtype)
        pooled = (self.embeddings(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
