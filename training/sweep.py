"""Hyperparameter search for one model of a lineup: ``python training/sweep.py --help``.

The command's code is ``training/experiments/sweep.py``; this file keeps the command where the README
says it is (``python training/sweep.py`` and ``python -m training.sweep``).
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the project on the path
runpy.run_module("training.experiments.sweep", run_name="__main__", alter_sys=True)
