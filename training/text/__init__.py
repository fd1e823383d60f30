"""The text modality: its data sources (files, Hub, BBC News), tokenizers and lineup."""
