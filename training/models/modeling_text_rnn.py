"""Recurrent text classifier: embeddings -> (Bi)GRU/LSTM -> attention, max or mean pooling -> linear.

Serves both the from-scratch ``scratch-complex`` model and ``glove-lstm`` (same network, GloVe
vectors copied into the embedding table). Self-contained on purpose: this file ships with the weights.
"""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class TextRNNConfig(PretrainedConfig):
    model_type = "text-rnn-classifier"

    def __init__(
        self,
        vocab_size: int = 20000,
        embedding_dim: int = 128,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        bidirectional: bool = True,
        pooling: str = "attention",
        dropout: float = 0.3,
        freeze_embeddings: bool = False,
        max_sequence_length: int = 512,
        pad_token_id: int = 0,
        **kwargs,
    ):
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
        if pooling not in ("attention", "max", "mean"):
            raise ValueError(f"pooling must be 'attention', 'max' or 'mean', got {pooling!r}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.dropout = dropout
        self.freeze_embeddings = freeze_embeddings
        self.max_sequence_length = max_sequence_length
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence's first ``lengths[b]`` steps, leaving the padding after them in place."""
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0).expand(x.shape[0], -1)
    reversed_steps = lengths.unsqueeze(1) - 1 - steps
    index = torch.where(reversed_steps >= 0, reversed_steps, steps)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


class TextRNNForSequenceClassification(PreTrainedModel):
    config_class = TextRNNConfig
    base_model_prefix = "rnn"

    def __init__(self, config: TextRNNConfig):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        self.embeddings.weight.requires_grad = not config.freeze_embeddings
        # One unidirectional RNN per layer and direction instead of pack_padded_sequence: packed
        # variable-length batches lose PyTorch's fused CPU kernels (measured 6x slower at 256 tokens).
        # The backward direction reads each sequence reversed within its length, so padding always
        # comes after the real tokens and never reaches their states: the same result as packing.
        rnn_class = nn.GRU if config.cell == "gru" else nn.LSTM
        width = config.hidden_size * (2 if config.bidirectional else 1)
        inputs = [config.embedding_dim] + [width] * (config.num_layers - 1)
        self.forward_layers = nn.ModuleList(rnn_class(n, config.hidden_size, batch_first=True) for n in inputs)
        self.backward_layers = nn.ModuleList(
            rnn_class(n, config.hidden_size, batch_first=True) for n in (inputs if config.bidirectional else [])
        )
        # Additive attention (Bahdanau-style) pooling: learns which tokens matter for the label.
        self.attention = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1, bias=False))
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(width, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Embedding, nn.Linear, nn.GRU, nn.LSTM)):
            module.reset_parameters()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        # Cut to the trained length, so a caller who forgets truncation=True gets the same answer.
        input_ids = input_ids[:, : self.config.max_sequence_length]
        if attention_mask is None:
            attention_mask = input_ids.ne(self.config.pad_token_id)
        mask = attention_mask[:, : self.config.max_sequence_length].bool()
        lengths = mask.sum(1).clamp(min=1)
        states = self.dropout(self.embeddings(input_ids))
        for layer, forward_rnn in enumerate(self.forward_layers):
            if layer > 0:
                states = self.dropout(states)
            outputs = [forward_rnn(states)[0]]
            if self.config.bidirectional:
                backward = self.backward_layers[layer](reverse_within_length(states, lengths))[0]
                outputs.append(reverse_within_length(backward, lengths))
            states = torch.cat(outputs, dim=-1)
        if self.config.pooling == "attention":
            scores = self.attention(states).squeeze(-1).masked_fill(~mask, torch.finfo(states.dtype).min)
            pooled = (torch.softmax(scores, dim=1).unsqueeze(-1) * states).sum(1)
        elif self.config.pooling == "max":
            pooled = states.masked_fill(~mask.unsqueeze(-1), torch.finfo(states.dtype).min).max(1).values
        else:
            weights = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / lengths.unsqueeze(-1).to(states.dtype)
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
