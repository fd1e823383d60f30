"""``report.pdf``: the report's ``Document`` typeset as a short paper by Typst (the ``typst`` package ships
the compiler: it runs offline, with no browser or system service, and its fonts are embedded, so every
machine typesets the same pages).

A4, two columns, 10 pt Libertinus Serif; tables at 8 pt with booktabs rules, captions above tables and below
figures; wide figures and tables float over both columns. The main text ends with a page break; the
appendix (one column, sections A, B...) follows.
"""

import re
from pathlib import Path

from training.reporting.document import INLINE, REFERENCE, Bullets, Document, Figure, Paragraph, Section, Table

# Characters Typst's markup gives a meaning to (and "//" starts a comment), escaped everywhere in text.
SPECIAL = re.compile(r"([\\#*_`$<>@\[\]~/\"'=+-])")
TEXT_WIDTH_IN = 6.6  # A4 less the margins, in inches
PREAMBLE = """\
#set document(title: {title})
#set page(paper: "a4", margin: (x: 1.7cm, top: 1.7cm, bottom: 1.9cm), columns: 2, numbering: "1")
#set columns(gutter: 0.55cm)
#set text(font: "Libertinus Serif", size: 10pt, lang: "en")
#set par(justify: true, leading: 0.52em, spacing: 0.75em)
#set heading(numbering: "1.1")
#show heading: set text(size: 11pt)
#show heading.where(level: 2): set text(size: 10pt)
#show heading.where(level: 3): set text(size: 10pt, style: "italic", weight: "regular")
#show heading: set block(above: 0.9em, below: 0.55em)
#show figure.where(kind: table): set figure.caption(position: top)
#show figure.caption: set text(size: 9pt)
#show figure: set block(spacing: 0.9em)
#show table: set text(size: 8pt)
#show table: set par(justify: false)
#show table: set text(hyphenate: false)
#set table(stroke: none, inset: (x: 3.5pt, y: 2.2pt))
#show raw: set text(size: 8.5pt)
#set list(spacing: 0.6em)
"""


def escape(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text)


def inline(text: str) -> str:
    """Markdown-flavoured inline text as Typst markup: **bold**, *italic*, `code`, {fig:KEY} references."""
    out = []
    for piece in INLINE.split(text):
        if not piece:
            continue
        if piece.startswith("**") and piece.endswith("**") and len(piece) > 4:
            out.append(f"#strong[{inline(piece[2:-2])}]")
        elif REFERENCE.fullmatch(piece):
            kind, key = REFERENCE.fullmatch(piece).groups()
            out.append(f"@{kind}-{key}")
        elif piece.startswith("`") and piece.endswith("`"):
            out.append(f"#raw({_string(piece[1:-1])})")
        elif piece.startswith("*") and piece.endswith("*") and len(piece) > 2:
            out.append(f"#emph[{inline(piece[1:-1])}]")
        else:
            out.append(escape(piece))
    return "".join(out)


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(kind: str, key: str) -> str:
    return f"<{kind}-{key}>"


def table(block: Table, float_wide: bool = True) -> str:
    columns = len(block.header)
    numeric = [all(re.fullmatch(r"[*\s\d.,+\-±%n/a()]+", str(row[i])) for row in block.rows) for i in range(columns)]
    align = ", ".join("right" if n and i else "left" for i, n in enumerate(numeric))
    header = ", ".join(f"[#strong[{inline(str(h))}]]" for h in block.header)
    # The first column names a row (a model, a class): kept on one line, never hyphenated.
    cells = ",\n    ".join(
        ", ".join(f"[#box[{inline(str(cell))}]]" if i == 0 else f"[{inline(str(cell))}]" for i, cell in enumerate(row))
        for row in block.rows
    )
    placement = 'placement: auto, scope: "parent", ' if block.wide and float_wide else ""
    # Wide tables span the page: names and short labels as wide as their longest entry, numbers sharing the
    # rest (their headers wrap), long descriptions three shares. Narrow ones: every column as its content.
    longest = [max(len(str(row[i])) for row in block.rows) if block.rows else 0 for i in range(columns)]
    # A number column headed by one word of 10 letters or more ("parameters") is as wide as that word: its share
    # of the rest could be narrower at 8 pt, and the word, which cannot wrap, would run into the next header.
    long_word = [len(str(h).split()) == 1 and len(str(h)) >= 10 for h in block.header]
    sizes = ", ".join(
        "auto"
        if not block.wide or (i == 0 or not numeric[i]) and longest[i] <= 30 or numeric[i] and long_word[i]
        else "3fr"
        if longest[i] > 30
        else "1fr"
        for i in range(columns)
    )
    return (
        f"#figure({placement}kind: table, caption: [{inline(block.caption)}],\n"
        f"  table(columns: ({sizes}), align: ({align},),\n"
        f"    table.hline(stroke: 0.8pt), table.header({header}), table.hline(stroke: 0.5pt),\n"
        f"    {cells},\n    table.hline(stroke: 0.8pt))\n) {_label('tab', block.key)}\n"
    )


def printed_width(path: Path) -> str:
    """A picture at the size it was drawn for (its pixels over its dpi), at most the text width: a figure of
    one small confusion matrix stays small instead of filling a page."""
    from PIL import Image

    with Image.open(path) as image:
        dpi = float(image.info.get("dpi", (100, 100))[0]) or 100
        inches = image.width / dpi
    return "100%" if inches >= TEXT_WIDTH_IN else f"{inches:.2f}in"


def figure(block: Figure, root: Path, float_wide: bool = True) -> str:
    paths = [p.relative_to(root).as_posix() for p in block.paths]
    if len(paths) == 1:
        body = f"image({_string(paths[0])}, width: {printed_width(block.paths[0])})"
    else:
        images = ", ".join(f"image({_string(p)}, width: 100%)" for p in paths)
        body = f"grid(columns: {len(paths)}, gutter: 0.3cm, {images})"
    placement = 'placement: auto, scope: "parent", ' if block.wide and float_wide else ""
    return f"#figure({placement}{body},\n  caption: [{inline(block.caption)}]) {_label('fig', block.key)}\n"


def section(sec: Section, level: int, root: Path, columns: int = 2) -> list[str]:
    """A section's markup; wide blocks float over both columns of the main text, and stay in the flow in the
    one-column appendix."""
    out = [f"{'=' * level} {escape(sec.title)}\n"]
    for block in sec.blocks:
        if isinstance(block, Paragraph):
            out.append(inline(block.text) + "\n")
        elif isinstance(block, Bullets):
            out.append("".join(f"- {inline(item)}\n" for item in block.items))
        elif isinstance(block, Table):
            out.append(table(block, columns > 1))
        else:
            out.append(figure(block, root, columns > 1))
    for sub in sec.subsections:
        out += section(sub, level + 1, root, columns)
    return out


def typst_source(document: Document, root: Path, space_url: str | None = None) -> str:
    """The document as Typst markup; pictures are referred to relative to ``root``."""
    parts = [PREAMBLE.format(title=_string(document.title))]
    parts.append(
        '#place(top + center, scope: "parent", float: true, clearance: 1.2em)[\n'
        f'  #align(center)[#text(size: 16pt, weight: "bold")[{inline(document.title)}]\n'
        f"  #v(0.2em) #text(size: 9pt)[{inline(document.subtitle)}]]\n"
        "  #v(0.4em)\n"
        f"  #block(inset: (x: 1.2cm))[#set par(justify: true); #strong[Abstract.] {inline(document.abstract)}]\n"
        "]\n"
    )
    for sec in document.sections:
        parts += section(sec, 1, root)
    if space_url:
        parts.append(f"The models can be tried in the demo at #link({_string(space_url)}).\n")
    if document.appendix:
        parts.append(
            '#set page(columns: 1)\n#counter(heading).update(0)\n#set heading(numbering: "A.1")\n'
            "#heading(numbering: none)[Appendix]\n"
        )
        for sec in document.appendix:
            parts += section(sec, 1, root, columns=1)
    return "\n".join(parts)


def write_pdf(document: Document, root: Path, path: Path, space_url: str | None = None) -> None:
    """Typeset ``document`` into ``path`` (its figures lie under ``root``, the report's folder)."""
    import typst

    source = typst_source(document, root, space_url)
    pdf = typst.compile(source.encode("utf-8"), root=str(root.resolve()), format="pdf", ignore_system_fonts=True)
    path.write_bytes(pdf)
