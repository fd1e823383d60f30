"""Convolutional image classifiers built from scratch, in two designs:

- ``plain``: stages of conv -> ReLU, each followed by 2x2 max pooling (the classic small CNN);
- ``resnet``: a conv stem, then stages of residual blocks (two 3x3 convs and a skip connection,
  stride 2 at each new stage), as in ResNet.

Both end in global average pooling -> dropout -> linear. BatchNorm, the skip connections and
dropout are switches (``batch_norm``, ``residual``, ``dropout``) so that ablations can turn them off.
Self-contained on purpose (torch + transformers only): this file ships with the weights.
"""

from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import ImageClassifierOutput


class ImageCNNConfig(PretrainedConfig):
    model_type = "image-cnn-classifier"

    def __init__(
        self,
        design: str = "plain",
        num_channels: int = 3,
        stage_channels: list[int] | tuple[int, ...] = (32, 64, 128),
        blocks_per_stage: int = 1,
        stem_stride: int = 1,
        batch_norm: bool = False,
        residual: bool = False,
        dropout: float = 0.0,
        image_size: int = 32,
        **kwargs,
    ):
        if design not in ("plain", "resnet"):
            raise ValueError(f"design must be 'plain' or 'resnet', got {design!r}")
        self.design = design
        self.num_channels = num_channels
        self.stage_channels = list(stage_channels)
        self.blocks_per_stage = blocks_per_stage
        self.stem_stride = stem_stride
        self.batch_norm = batch_norm
        self.residual = residual
        self.dropout = dropout
        self.image_size = image_size  # the resolution it was trained at (the image processor resizes to it)
        super().__init__(**kwargs)


def conv_bn(in_channels: int, out_channels: int, stride: int, batch_norm: bool, kernel_size: int = 3) -> nn.Sequential:
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the input (projected by a 1x1 conv when the shape changes), then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, batch_norm: bool, residual: bool):
        super().__init__()
        self.conv1 = conv_bn(in_channels, out_channels, stride, batch_norm)
        self.conv2 = conv_bn(out_channels, out_channels, 1, batch_norm)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if residual:
            same_shape = stride == 1 and in_channels == out_channels
            self.shortcut = nn.Identity() if same_shape else conv_bn(in_channels, out_channels, stride, batch_norm, 1)

    def forward(self, x):
        out = self.conv2(self.relu(self.conv1(x)))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class ImageCNNForImageClassification(PreTrainedModel):
    config_class = ImageCNNConfig
    base_model_prefix = "cnn"
    main_input_name = "pixel_values"

    def __init__(self, config: ImageCNNConfig):
        super().__init__(config)
        channels, bn = config.stage_channels, config.batch_norm
        layers: list[nn.Module] = []
        if config.design == "plain":
            in_channels = config.num_channels
            for out_channels in channels:
                for _ in range(config.blocks_per_stage):
                    layers += [conv_bn(in_channels, out_channels, 1, bn), nn.ReLU(inplace=True)]
                    in_channels = out_channels
                layers.append(nn.MaxPool2d(2))
        else:
            layers += [conv_bn(config.num_channels, channels[0], config.stem_stride, bn), nn.ReLU(inplace=True)]
            in_channels = channels[0]
            for stage, out_channels in enumerate(channels):
                for block in range(config.blocks_per_stage):
                    stride = 2 if stage > 0 and block == 0 else 1
                    layers.append(ResidualBlock(in_channels, out_channels, stride, bn, config.residual))
                    in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(channels[-1], config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # PyTorch's own initialisation; transformers' default N(0, 0.02) trains scratch models badly.
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            module.reset_parameters()

    def forward(self, pixel_values=None, labels=None, **kwargs) -> ImageClassifierOutput:
        features = self.pool(self.features(pixel_values)).flatten(1)
        logits = self.classifier(self.dropout(features))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return ImageClassifierOutput(loss=loss, logits=logits)
