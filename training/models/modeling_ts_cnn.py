"""Convolutional time-series classifiers from the literature's baselines (Wang, Yan and Oates 2017, "Time series
classification from scratch with deep neural networks"): the fully convolutional network (FCN: three
convolution blocks of 128/256/128 filters, widths 8/5/3, BatchNorm and ReLU, global average pooling) and the
ResNet (three residual blocks of three such convolutions, 64/128/128 filters).

Padded steps (``attention_mask`` 0) are zeroed after every block and left out of the pooling, so a series
gives the same answer whatever it is padded to. Self-contained on purpose: this file ships with the weights.
"""

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

ARCHITECTURES = {"fcn": (128, 256, 128), "resnet": (64, 128, 128)}
KERNEL_SIZES = (8, 5, 3)


class TimeSeriesCNNConfig(PretrainedConfig):
    model_type = "time-series-cnn-classifier"

    def __init__(
        self,
        num_channels: int = 1,
        architecture: str = "fcn",
        dropout: float = 0.0,
        max_series_length: int = 512,
        **kwargs,
    ):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
        self.num_channels = num_channels
        self.architecture = architecture
        self.dropout = dropout
        self.max_series_length = max_series_length
        super().__init__(**kwargs)


def conv_block(inputs: int, outputs: int, width: int, activation: bool = True) -> nn.Sequential:
    # "Same" padding as Keras pads an even width (one more step after than before), written out: PyTorch's
    # padding="same" copies the input for even widths and warns on every call.
    layers = [
        nn.ConstantPad1d(((width - 1) // 2, width // 2), 0.0),
        nn.Conv1d(inputs, outputs, width),
        nn.BatchNorm1d(outputs),
    ]
    return nn.Sequential(*layers, nn.ReLU()) if activation else nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """Three convolutions (widths 8, 5, 3) beside a 1x1 shortcut, added before the last ReLU."""

    def __init__(self, inputs: int, outputs: int):
        super().__init__()
        widths = [inputs, outputs, outputs, outputs]
        last = len(KERNEL_SIZES) - 1
        self.convs = nn.ModuleList(
            conv_block(a, b, k, activation=i < last)
            for i, (a, b, k) in enumerate(zip(widths, widths[1:], KERNEL_SIZES, strict=False))
        )
        self.shortcut = conv_block(inputs, outputs, 1, activation=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = x
        for conv in self.convs:  # padded steps zeroed before each next convolution reads them
            states = conv(states) * mask
        return torch.relu(states + self.shortcut(x))


class TimeSeriesCNNForClassification(PreTrainedModel):
    config_class = TimeSeriesCNNConfig
    base_model_prefix = "cnn"
    main_input_name = "values"

    def __init__(self, config: TimeSeriesCNNConfig):
        super().__init__(config)
        widths = [config.num_channels, *ARCHITECTURES[config.architecture]]
        pairs = list(zip(widths[:-1], widths[1:], strict=True))
        if config.architecture == "fcn":
            blocks = [conv_block(a, b, k) for (a, b), k in zip(pairs, KERNEL_SIZES, strict=True)]
        else:
            blocks = [ResidualBlock(a, b) for a, b in pairs]
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(widths[-1], config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Conv1d, nn.Linear, nn.BatchNorm1d)):
            module.reset_parameters()

    def forward(self, values=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones(values.shape[0], values.shape[-1], dtype=torch.long, device=values.device)
        mask = attention_mask.unsqueeze(1).to(values.dtype)
        states = values * mask
        for block in self.blocks:
            states = (block(states, mask) if isinstance(block, ResidualBlock) else block(states)) * mask
        pooled = states.sum(-1) / mask.sum(-1).clamp(min=1.0)
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
