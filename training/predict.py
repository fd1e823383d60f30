"""Predictions for new data: ``python training/predict.py --help``.

The command's code is ``training/inference/predict.py``; this file keeps the command where the README says it is
(``python training/predict.py`` and ``python -m training.predict``).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the project on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from training.core.progress import announce_start

    announce_start(__file__)  # before the libraries' imports, which take about 10 s

from training.core.errors import run_cli  # noqa: E402
from training.inference.predict import main  # noqa: E402

if __name__ == "__main__":
    run_cli(main)
