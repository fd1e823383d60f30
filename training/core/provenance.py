"""How a run was made: the command that reproduces it, every resolved argument, the package versions
and the git commit. ``results.json`` keeps it under ``provenance``; the report's appendix, its notebook
and the model cards show it."""

import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the repository (or unpacked source) the scripts run from
PACKAGES = ("torch", "torchvision", "transformers", "tokenizers", "datasets", "accelerate", "evaluate", "timm")
# Arguments that say where or how secretly, not what: never recorded.
SECRETS = ("hub_token", "push_to_hub_token")


def launcher() -> str:
    """The launcher the script was started with, as the user would type it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if "ACCELERATE_MIXED_PRECISION" in os.environ or "ACCELERATE_DYNAMO_BACKEND" in os.environ:
        return "accelerate launch" + (f" --multi_gpu --num_processes {world}" if world > 1 else "")
    if world > 1:
        return f"torchrun --nproc_per_node {os.environ.get('LOCAL_WORLD_SIZE', world)}"
    return "python"


def _secret(flag: str) -> bool:
    name = flag.lstrip("-").split("=", 1)[0].replace("-", "_")
    return flag.startswith("--") and (name in SECRETS or name.endswith("_token"))


def without_secrets(arguments: list[str]) -> list[str]:
    """The arguments less every token flag and its value (``--hub_token X``, ``--hub_token=X``): the record
    goes into results.json, the model cards and the report, which are published."""
    out, skip = [], False
    for argument in arguments:
        if skip:
            skip = False
        elif _secret(argument):
            skip = "=" not in argument
        else:
            out.append(argument)
    return out


def command_line(argv: list[str] | None = None) -> str:
    """The command that reproduces this run, with the script's path relative to the repository (tokens left
    out: the Hub login or HF_TOKEN provides them)."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    shown = str(script.relative_to(ROOT)) if script.is_relative_to(ROOT) else argv[0]
    return " ".join([launcher(), shlex.quote(shown), *(shlex.quote(a) for a in without_secrets(argv[1:]))])


def _plain(value: Any) -> Any:
    """A value as JSON holds it (enums by their value, paths and other objects as text)."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return getattr(value, "value", str(value))


def resolved_arguments(parts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field of each argument dataclass as parsed (defaults included), secrets left out."""
    out = {}
    for name, part in parts.items():
        values = part.to_dict() if hasattr(part, "to_dict") else dataclasses.asdict(part)
        out[name] = {k: _plain(v) for k, v in values.items() if k not in SECRETS and not k.endswith("_token")}
    return out


def git_commit() -> dict[str, Any] | None:
    """The repository's commit and whether files differed from it; None outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def provenance(parts: dict[str, Any], explicit: set[str], argv: list[str] | None = None) -> dict[str, Any]:
    """The record of one run: ``parts`` are its argument dataclasses by name (model, data, run, training);
    ``explicit`` the names the user set."""
    return {
        "command": command_line(argv),
        "explicit_arguments": sorted(a for a in explicit if not _secret(f"--{a}")),
        "arguments": resolved_arguments(parts),
        "packages": package_versions(),
        "git": git_commit(),
        "platform": f"{platform.system()} {platform.machine()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
