"""The report: what a course project hands in, written from one or more runs' outputs.

    python -m training.report outputs/text                       # into outputs/text
    python -m training.report outputs/text outputs/image outputs/sweep-text-glove-lstm --output_dir R
    python -m training.report outputs/text --formats pdf,pptx     # only the paper and the slides

Writes ``report.md``, a self-contained ``report.html`` (figures embedded, opens offline), ``report.pdf``
(a short paper typeset by Typst: two A4 pages of main text for one run, then an appendix),
``slides.pptx`` (python-pptx) and ``report.ipynb`` (executed; it reloads the runs' JSON and redraws the
figures), with the figures in ``figures/``. Sections: task, data, metrics (and why the primary one), models,
experiments (training set-up, cross-validation, repeated seeds, hyperparameter searches, ablations),
results and insights; the appendix has per-class results, every hyperparameter, each model's own figures
and the command that reproduces each run. One content model (``document.py``) for every format: every
number comes from the runs' JSON files and every insight is computed from them (``insights.py``).
"""

import base64
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from training.core.errors import UserError, run_cli
from training.reporting.content import build_document, load_runs
from training.reporting.document import to_markdown

logger = logging.getLogger(__name__)

CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; }
th { background: #f2f2f2; } img { max-width: 100%; } code { font-size: .9em; }
"""
FORMATS = ("md", "html", "pdf", "pptx", "ipynb")
FIGURES = "figures"


@dataclass
class ReportArguments:
    """Which runs to report on, where, and in which formats."""

    run_dirs: list[str] = field(metadata={"help": "Finished runs' output directories (the first arguments)."})
    output_dir: str | None = field(default=None, metadata={"help": "Where to write. Default: the first run."})
    title: str | None = field(default=None, metadata={"help": "The report's title. Default: from the runs."})
    formats: str = field(
        default=",".join(FORMATS),
        metadata={"help": "Comma-separated formats to write: md, html, pdf (the paper), pptx (slides), ipynb."},
    )
    space_url: str | None = field(
        default=None, metadata={"help": "The deployed Space's URL, for the slides' last slide and the paper."}
    )


def to_html(markdown: str, base: Path, title: str) -> str:
    """Self-contained HTML: the Markdown rendered by markdown-it, each figure inlined as a data URI."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def inline(match: re.Match) -> str:
        path = (base / match.group(1)).resolve()
        if not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="([^"]+\.png)"', inline, body)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n{body}</body></html>\n"
    )


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(partial)`` to a temporary name beside ``path``, then rename: a failed renderer leaves no
    half-written file that looks complete."""
    partial = path.with_name(path.name + ".partial")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def parse_formats(value: str) -> list[str]:
    formats = [f.strip().lstrip(".") for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"--formats: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(FORMATS)}.")
    return formats


def write_report(
    run_dirs: list[Path],
    output_dir: Path | None = None,
    title: str | None = None,
    formats: list[str] | tuple[str, ...] = FORMATS,
    space_url: str | None = None,
) -> list[Path]:
    """Write the chosen formats (``FORMATS``) into ``output_dir``; returns the paths written. A renderer that
    fails is named and skipped (UserError at the end), the others are still written."""
    from training.reporting import notebook, paper, slides

    given = load_runs(run_dirs)
    output_dir = output_dir or given.runs[0].path
    output_dir.mkdir(parents=True, exist_ok=True)
    document = build_document(given, output_dir / FIGURES, title)
    markdown = to_markdown(document, output_dir)
    renderers: dict[str, tuple[str, Callable[[Path], None]]] = {
        "md": ("report.md", lambda p: p.write_text(markdown, encoding="utf-8")),
        "html": (
            "report.html",
            lambda p: p.write_text(to_html(markdown, output_dir, document.title), encoding="utf-8"),
        ),
        "pdf": ("report.pdf", lambda p: paper.write_pdf(document, output_dir, p, space_url)),
        "pptx": ("slides.pptx", lambda p: slides.write_slides(document, given, p, space_url)),
        "ipynb": ("report.ipynb", lambda p: notebook.write_notebook(document, given, output_dir, p)),
    }
    written, failed = [], []
    for name in formats:
        filename, render = renderers[name]
        start = time.perf_counter()
        try:
            write_atomically(output_dir / filename, render)
        except Exception as error:  # one renderer's failure must not cost the others
            logger.exception("%s failed", filename)
            failed.append(f"{filename} ({type(error).__name__}: {error})")
            continue
        logger.info("Wrote %s in %.1f s", filename, time.perf_counter() - start)
        written.append(output_dir / filename)
    if failed:
        raise UserError(
            f"could not write {'; '.join(failed)}. Written: {', '.join(p.name for p in written) or 'nothing'}."
        )
    return written


def main() -> None:
    argv = sys.argv[1:]
    positional = []
    while argv and not argv[0].startswith("-"):
        positional.append(argv.pop(0))
    # Run folders come first, as positional arguments; --help (or nothing) goes to the parser as it is.
    given = ["--run_dirs", *positional] if positional else []
    (args,) = HfArgumentParser(ReportArguments).parse_args_into_dataclasses([*given, *argv])
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    formats = parse_formats(args.formats)
    start = time.perf_counter()
    paths = write_report(
        [Path(p) for p in args.run_dirs], Path(args.output_dir) if args.output_dir else None, args.title, formats,
        args.space_url,
    )  # fmt: skip
    for path in paths:
        print(f"Written {path}")
    print(f"{len(paths)} file(s) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    run_cli(main)
