"""The report of runs, sweeps and ablations: ``python -m training.report --help``.

The command's code is ``training/reporting/report.py``; this file keeps the command where the README
says it is (``python training/report.py`` and ``python -m training.report``).
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the project on the path
runpy.run_module("training.reporting.report", run_name="__main__", alter_sys=True)
