"""The image modality: its data sources (class folders, Hub, digits), preprocessing and lineup, and the
offline EfficientNet-Lite0 backbone."""
