"""Push a run's models to the Hugging Face Hub: ``python -m training.publish --help``.

The command's code is ``training/hub/publish.py``; this file keeps the command where the README
says it is (``python training/publish.py`` and ``python -m training.publish``).
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the project on the path
runpy.run_module("training.hub.publish", run_name="__main__", alter_sys=True)
