"""Deploy ``space/`` as a Hugging Face Space: ``python -m training.deploy_space --help``.

The command's code is ``training/hub/deploy_space.py``; this file keeps the command where the README
says it is (``python training/deploy_space.py`` and ``python -m training.deploy_space``).
"""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script: the project on the path
runpy.run_module("training.hub.deploy_space", run_name="__main__", alter_sys=True)
