"""Recurrent time-series classifier: the steps of a series (all channels at once) through a GRU or LSTM, the
state at its last real step (padding comes after it, so it never reaches that state) -> dropout -> linear.

Self-contained on purpose: this file ships with the weights.
"""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class TimeSeriesRNNConfig(PretrainedConfig):
    model_type = "time-series-rnn-classifier"

    def __init__(
        self,
        num_channels: int = 1,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        dropout: float = 0.1,
        max_series_length: int = 512,
        **kwargs,
    ):
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
        self.num_channels = num_channels
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.max_series_length = max_series_length
        super().__init__(**kwargs)


class TimeSeriesRNNForClassification(PreTrainedModel):
    config_class = TimeSeriesRNNConfig
    base_model_prefix = "rnn"
    main_input_name = "values"

    def __init__(self, config: TimeSeriesRNNConfig):
        super().__init__(config)
        rnn_class = nn.GRU if config.cell == "gru" else nn.LSTM
        self.rnn = rnn_class(
            config.num_channels, config.hidden_size, num_layers=config.num_layers, batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Linear, nn.GRU, nn.LSTM)):
            module.reset_parameters()

    def forward(self, values=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        states = self.rnn(values.transpose(1, 2))[0]  # (batch, steps, hidden)
        if attention_mask is None:
            last = torch.full((values.shape[0],), values.shape[-1] - 1, device=values.device)
        else:
            last = attention_mask.sum(1).clamp(min=1) - 1
        final = states[torch.arange(states.shape[0], device=states.device), last]
        logits = self.classifier(self.dropout(final))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
