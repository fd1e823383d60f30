"""Every public command, as the README writes it, answers ``--help`` with its options and exit code 0."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

COMMANDS = [
    ["training/train_text.py"],
    ["training/train_image.py"],
    ["training/train_timeseries.py"],
    ["training/predict.py"],
    ["-m", "training.predict"],
    ["training/sweep.py"],
    ["training/ablate.py"],
    ["-m", "training.report"],
    ["-m", "training.publish"],
    ["-m", "training.deploy_space"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_answers_help(command):
    result = subprocess.run([sys.executable, *command, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:") and "--help" in result.stdout
