"""``report.ipynb``: the report's story as a notebook, written with nbformat and executed with nbclient.

Markdown cells carry the paper's text; code cells load the runs' ``results.json``/``dataset.json`` (and the
sweeps' and ablations' JSON) with pandas, show the tables, redraw the figures with the project's own
``training.core.plots`` and print the command that reproduces each run. It is written executed, outputs
embedded, and re-executes from a fresh kernel in the project's environment (its working directory: the
report's folder, where it lies).
"""

import os
from pathlib import Path

import nbformat
from nbformat import v4

from training.core.provenance import ROOT
from training.reporting.content import Given
from training.reporting.document import Bullets, Document, Paragraph, Table, block_markdown, numbered, plain

SETUP = """\
import json
import sys
from pathlib import Path

import pandas as pd
from IPython.display import Image

ROOT = Path({root!r})  # the project, for its plotting functions
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from training.core import plots

pd.set_option("display.max_colwidth", 80)
FIGURES = Path("figures")  # beside this notebook
RUNS = {runs}  # the runs reported, relative to this notebook


def load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


results = {{n: load(path / "results.json") for n, path in RUNS.items()}}
datasets = {{n: load(path / "dataset.json") for n, path in RUNS.items()}}
sweeps = {{n: load(path) for n, path in {sweeps}.items()}}
ablations = {{name: rows for path in {ablations} for name, rows in load(path).items()}}
"""
REPRODUCE = """\
record = results[{number}].get("provenance") or {{}}
print(record.get("command", "This run predates the record of its command line."))
print("git:", record.get("git"), "\\n", record.get("packages"))"""


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def build_notebook(document: Document, given: Given, base: Path) -> nbformat.NotebookNode:
    """The notebook's cells (not executed); ``base``: the folder it is written to."""
    numbers = document.numbers()
    runs = "{" + ", ".join(f"{r.number}: Path({_relative(r.path, base)!r})" for r in given.runs) + "}"
    sweeps = "{" + ", ".join(
        f"{i}: {_relative(path / 'sweep.json', base)!r}" for i, (path, _) in enumerate(given.sweeps, 1)
    ) + "}"  # fmt: skip
    ablations = "[" + ", ".join(repr(_relative(p / "ablations.json", base)) for p in given.ablation_dirs) + "]"
    cells = [
        v4.new_markdown_cell(
            f"# {document.title}\n\n*{document.subtitle}*\n\n**Abstract.** {plain(document.abstract, numbers)}"
        ),
        v4.new_code_cell(SETUP.format(root=str(ROOT), runs=runs, sweeps=sweeps, ablations=ablations)),
    ]
    appendix = {id(s) for s in document.appendix}
    text: list[str] = []

    def flush() -> None:
        if text:
            cells.append(v4.new_markdown_cell("\n".join(text).strip()))
            text.clear()

    for number, depth, section in numbered(document):
        if document.appendix and section is document.appendix[0]:
            text += ["## Appendix", ""]
        text += [f"{'#' * (depth + 1 + (id(section) in appendix))} {number} {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph | Bullets) or not block.code:
                text += block_markdown(block, numbers, base)
                continue
            flush()
            kind = "Table" if isinstance(block, Table) else "Figure"
            key = ("tab" if isinstance(block, Table) else "fig", block.key)
            cells.append(v4.new_code_cell(f"# {kind} {numbers[key]}: {plain(block.caption, numbers)}\n{block.code}"))
        if id(section) in appendix:
            run = next((r for r in given.runs if section.key == f"appendix-{r.number}"), None)
            if run is not None:
                flush()
                cells.append(
                    v4.new_code_cell(f"# How run {run.number} was made\n" + REPRODUCE.format(number=run.number))
                )
    flush()
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def execute(notebook: nbformat.NotebookNode, folder: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell in a fresh ``python3`` kernel whose working directory is ``folder`` (raises on the first
    failing cell); the outputs are filled in place."""
    from nbclient import NotebookClient

    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def write_notebook(document: Document, given: Given, base: Path, path: Path, timeout: int = 600) -> None:
    """Build the notebook, execute it in a fresh kernel (in ``base``) and write it with its outputs."""
    notebook = execute(build_notebook(document, given, base), base, timeout)
    with path.open("w", encoding="utf-8") as handle:
        nbformat.write(notebook, handle)


def check_executes(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Re-execute a written notebook from a fresh kernel, from its own folder."""
    return execute(nbformat.read(path, as_version=4), path.parent, timeout)
