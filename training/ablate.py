"""The documented ablations, each a training run: ``python training/ablate.py --help``.

The command's code is ``training/experiments/ablate.py``; this file keeps the command where the README
says it is (``python training/ablate.py`` and ``python -m training.ablate``).
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the project on the path
runpy.run_module("training.experiments.ablate", run_name="__main__", alter_sys=True)
