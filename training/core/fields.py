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


def split_fields(text: str, fields: list[str]) -> dict[str, str] | None:
    """The field values of a ``text`` that ``join_fields`` made from ``fields`` (a left-out value is ""),
    or None when the text cannot be read back unambiguously (a value holding `` | ``)."""
    values = {}
    for part in text.split(SEPARATOR):
        name, colon, value = part.partition(": ")
        if not colon or name not in fields or name in values:
            return None
        values[name] = value
    values = {name: values.get(name, "") for name in fields}
    return values if join_fields(values) == text else None
