"""Several source columns as one model input (``--text_column keyword,text``): the documented format
that training, the model cards' usage snippet and the Space all use, so a model sees at inference
exactly what it was trained on."""

from typing import Any

SEPARATOR = " | "


def join_fields(values: dict[str, Any]) -> str:
    """``name: value`` for each field in order, joined by `` | ``; missing and blank values are left out
    (``keyword: flood | text: Forest fire near La Ronge``)."""
    texts = {name: "" if value is None else str(value).strip() for name, value in values.items()}
    return SEPARATOR.join(f"{name}: {text}" for name, text in texts.items() if text)


def input_format(fields: list[str]) -> str:
    """How the ``fields`` are joined, for cards and the Space: ``keyword: <keyword> | text: <text>``."""
    return SEPARATOR.join(f"{name}: <{name}>" for name in fields)
