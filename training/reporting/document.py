"""The report's content model: one ``Document`` of sections, paragraphs, numbered tables and figures, that
every renderer writes out (Markdown and HTML here, the typeset paper in ``paper.py``, the slides in
``slides.py``, the notebook in ``notebook.py``). The sentences and numbers are made once, in ``report.py``.

Text is Markdown-flavoured inline: ``**bold**``, ``*italic*``, ```code``` and references ``{fig:KEY}`` /
``{tab:KEY}`` to a figure or table of the document, which each renderer numbers its own way (the same
numbers: figures and tables count separately, in reading order).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.core.results import markdown_table

REFERENCE = re.compile(r"\{(fig|tab):([\w.-]+)\}")
# Inline pieces: bold, italic, code, a reference; the text between them is plain.
INLINE = re.compile(r"(\*\*.+?\*\*|\*[^*\s][^*]*?\*|`[^`]+`|\{(?:fig|tab):[\w.-]+\})")


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    key: str
    caption: str
    header: list[str]
    rows: list[list[Any]]
    wide: bool = False  # spans the page (both columns of the paper)
    code: str = ""  # the notebook's cell that shows it (pandas), from the runs' JSON


@dataclass
class Figure:
    key: str
    caption: str
    paths: list[Path]  # one picture, or several side by side
    wide: bool = True
    code: str = ""  # the notebook's cell that draws it with training.core.plots


Block = Paragraph | Bullets | Table | Figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list["Section"] = field(default_factory=list)
    role: str = ""  # what the section is (task, data, results...): how the slides pick their content
    key: str = ""  # a run's own section ("run-<number>", several runs) or appendix ("appendix-<number>")

    def walk(self) -> Iterator["Section"]:
        yield self
        for sub in self.subsections:
            yield from sub.walk()


@dataclass
class Document:
    title: str
    abstract: str
    sections: list[Section]
    appendix: list[Section] = field(default_factory=list)
    subtitle: str = ""

    def walk(self) -> Iterator[Section]:
        for section in [*self.sections, *self.appendix]:
            yield from section.walk()

    def blocks(self) -> Iterator[Block]:
        for section in self.walk():
            yield from section.blocks

    def numbers(self) -> dict[tuple[str, str], int]:
        """``("fig"|"tab", key)`` to the number it is shown with: figures and tables count apart, in order."""
        out: dict[tuple[str, str], int] = {}
        counts = {"fig": 0, "tab": 0}
        for block in self.blocks():
            kind = "fig" if isinstance(block, Figure) else "tab" if isinstance(block, Table) else None
            if kind:
                counts[kind] += 1
                out[(kind, block.key)] = counts[kind]
        return out

    def references(self) -> set[tuple[str, str]]:
        """Every ``{fig:...}``/``{tab:...}`` the text refers to."""
        texts = [self.abstract]
        for block in self.blocks():
            if isinstance(block, Paragraph):
                texts.append(block.text)
            elif isinstance(block, Bullets):
                texts += block.items
        return {(m.group(1), m.group(2)) for text in texts for m in REFERENCE.finditer(text)}

    def check(self) -> None:
        """Every reference names a figure or table of the document, and every figure and table is referred to
        (a caption nobody points at is a figure the reader never looks at)."""
        numbers, references = self.numbers(), self.references()
        dangling = sorted(references - set(numbers))
        unreferenced = sorted(set(numbers) - references)
        if dangling or unreferenced:
            raise ValueError(f"report references: dangling {dangling}, never referred to {unreferenced}")


def label(kind: str) -> str:
    return "Figure" if kind == "fig" else "Table"


def plain(text: str, numbers: dict[tuple[str, str], int]) -> str:
    """Inline text with the references numbered and the Markdown marks kept (Markdown, notebook cells)."""
    return REFERENCE.sub(lambda m: f"{label(m.group(1))} {numbers[(m.group(1), m.group(2))]}", text)


def unmarked(text: str, numbers: dict[tuple[str, str], int]) -> str:
    """Inline text as plain words: references numbered, the bold/italic/code marks dropped (slides, notes)."""
    text = plain(text, numbers)
    return re.sub(r"\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*|`([^`]+)`", lambda m: next(g for g in m.groups() if g), text)


def numbered(document: Document) -> Iterator[tuple[str, int, Section]]:
    """Every section with its number ("2.", "2.1.", appendix "A.") and depth (1 for the top sections)."""

    def walk(sec: Section, number: str, depth: int) -> Iterator[tuple[str, int, Section]]:
        yield number, depth, sec
        for index, sub in enumerate(sec.subsections, 1):
            yield from walk(sub, f"{number}{index}.", depth + 1)

    for index, sec in enumerate(document.sections, 1):
        yield from walk(sec, f"{index}.", 1)
    for index, sec in enumerate(document.appendix):
        yield from walk(sec, f"{chr(ord('A') + index)}.", 1)


def block_markdown(block: Block, numbers: dict[tuple[str, str], int], base: Path) -> list[str]:
    """One block's Markdown lines; figure links are relative to ``base``."""
    if isinstance(block, Paragraph):
        return [plain(block.text, numbers), ""]
    if isinstance(block, Bullets):
        return [*(f"- {plain(item, numbers)}" for item in block.items), ""]
    if isinstance(block, Table):
        return [f"*Table {numbers[('tab', block.key)]}: {plain(block.caption, numbers)}*", "",
                *markdown_table(block.header, block.rows)]  # fmt: skip
    caption = f"Figure {numbers[('fig', block.key)]}: {plain(block.caption, numbers)}"
    links = [f"![{caption}]({path.relative_to(base).as_posix()})" for path in block.paths]
    return [*links, "", f"*{caption}*", ""]


def to_markdown(document: Document, base: Path) -> str:
    """The document as Markdown; figure links are relative to ``base`` (where report.md is written)."""
    numbers = document.numbers()
    lines = [f"# {document.title}", ""]
    if document.subtitle:
        lines += [f"*{document.subtitle}*", ""]
    lines += [f"**Abstract.** {plain(document.abstract, numbers)}", ""]
    appendix = {id(s) for s in document.appendix}
    for number, depth, sec in numbered(document):
        if id(sec) in appendix and sec is document.appendix[0]:
            lines += ["## Appendix", ""]
        level = depth + 1 + (id(sec) in appendix)
        lines += [f"{'#' * level} {number} {sec.title}", ""]
        for block in sec.blocks:
            lines += block_markdown(block, numbers, base)
    return "\n".join(lines)
