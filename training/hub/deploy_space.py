"""Deploy the Gradio app in ``space/`` as a Hugging Face Space, with the models it shows.

    python -m training.deploy_space --space_id classification-lab                   # space/models.yaml
    python -m training.deploy_space --space_id alice/news-demo --results outputs/news --dry_run

The Space repo (``repo_type="space"``, ``space_sdk="gradio"``) receives, in one commit: ``app.py``
and ``catalog.py``, the project modules they import (bundled as the ``training`` package),
``requirements.txt``, ``README.md`` with the Spaces front matter (the installed Gradio version as
``sdk_version``), and a ``models.yaml`` rewritten for the Space. Hub repo ids stay ids (the Space
downloads them); local run and model directories are uploaded into the Space (``runs/``,
``models/``) with the files ``training.hub.publish`` would push, so a Space of published models stays small.
"""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from huggingface_hub import CommitOperationAdd, HfApi, SpaceCard
from huggingface_hub.errors import RepositoryNotFoundError
from transformers import HfArgumentParser

from training.core.errors import UserError, run_cli
from training.hub.publish import HUB_ERRORS, check_push_access, load_run, model_files, split_hub_model_id

ROOT = Path(__file__).resolve().parents[2]
SPACE_DIR = ROOT / "space"
APP_FILES = ("app.py", "catalog.py", "requirements.txt")
CARD = ("README.md",)  # beside what a push sends, the run's own model card: the Space's Models tab shows it
RUN_FILES = (
    "results.json", "dataset.json", "comparison.md", "class_balance.png", "examples.png", "roc_curves.png",
    "pr_curves.png", "calibration.png", "series_examples.json",
)  # fmt: skip

sys.path.insert(0, str(SPACE_DIR))  # the app's catalog reads models.yaml: one reader for both
import catalog  # noqa: E402


@dataclass
class DeployArguments:
    """Where the Space goes and what it shows."""

    space_id: str = field(metadata={"help": "The Space: 'name' (in the token's namespace) or 'user/name'."})
    config: str = field(default=str(SPACE_DIR / "models.yaml"), metadata={"help": "models.yaml listing the models."})
    results: str | None = field(
        default=None, metadata={"help": "Comma-separated run output directories to show, instead of --config."}
    )
    title: str = field(default="Classification lab", metadata={"help": "The Space's title."})
    hub_token: str | None = field(
        default=None, metadata={"help": "Hub token with write access. Default: HF_TOKEN or `hf auth login`."}
    )
    private: bool = field(default=False, metadata={"help": "Create the Space as private."})
    dry_run: bool = field(default=False, metadata={"help": "List what would be uploaded; send nothing."})


def imported_modules(*starts: Path) -> list[Path]:
    """The ``training`` modules that the ``starts`` import, directly or through each other. Read from the
    source (ast) rather than by importing: the Space must get exactly what the app needs."""
    seen: set[Path] = set()
    todo = list(starts)
    while todo:
        tree = ast.parse(todo.pop().read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:  # from training(.x) import y: y may be a module
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "training" or name.startswith("training."):
                    base = ROOT / name.replace(".", "/")  # a module, or a package (from training.x import NAME)
                    for path in (base.parent / f"{base.name}.py", base / "__init__.py"):
                        if path.is_file() and path not in seen:
                            seen.add(path)
                            todo.append(path)
    # Each module's package and the packages above it (training/core/__init__.py, training/__init__.py).
    packages = {
        folder / "__init__.py"
        for path in seen
        for folder in path.parents
        if ROOT / "training" in (folder, *folder.parents)
    }
    return sorted(packages | seen)


def plan_space(sources: dict[str, list[str]], title: str) -> tuple[dict[str, Path | bytes], list[str]]:
    """Every file of the Space (path in the repo -> local file or content) and the Hub model ids it
    loads. Local directories are checked here, before anything is sent."""
    files: dict[str, Path | bytes] = {name: SPACE_DIR / name for name in APP_FILES}
    files.update(
        {str(p.relative_to(ROOT)): p for p in imported_modules(SPACE_DIR / "app.py", SPACE_DIR / "catalog.py")}
    )
    config: dict[str, list[str]] = {}
    hub_ids = []
    for kind, entries in sources.items():
        for source in entries:
            path = Path(source)
            if (path / "results.json").is_file():
                _, _, names = load_run(path, None)  # a finished run, every model complete
                target = f"runs/{path.name}"
                files.update({f"{target}/{name}": path / name for name in RUN_FILES if (path / name).is_file()})
                for name in names:
                    files.update({f"{target}/{name}/{p.name}": p for p in model_files(path / name, CARD)})
            elif path.is_dir():
                if not (path / "config.json").is_file():
                    raise UserError(f"{path} is neither a run directory (results.json) nor a model (config.json).")
                target = f"models/{path.name}"
                files.update({f"{target}/{p.name}": p for p in model_files(path, CARD)})
            elif catalog.is_path(source):
                raise UserError(f"{source} does not exist. Train it first, or remove it from the configuration.")
            else:
                target = source
                hub_ids.append(source)
            if target in config.get(kind, []):
                raise UserError(f"two sources would both be uploaded as {target}; rename one of the directories.")
            config.setdefault(kind, []).append(target)
    if not config:
        raise UserError("no models to show: list run directories or Hub repo ids in models.yaml, or give --results.")
    header = "# Written by training.hub.deploy_space: the models this Space shows (see catalog.read_config).\n"
    files["models.yaml"] = (header + yaml.safe_dump(config, sort_keys=False)).encode("utf-8")
    card = SpaceCard.load(SPACE_DIR / "README.md")
    import gradio

    card.data.sdk_version, card.data.title, card.data.models = gradio.__version__, title, hub_ids or None
    files["README.md"] = str(card).encode("utf-8")
    return files, hub_ids


def deploy_space(args: DeployArguments) -> str:
    """Check everything, then create or update the Space in one commit; returns its repo id."""
    try:
        sources = (
            catalog.sources_from_runs([Path(p.strip()) for p in args.results.split(",") if p.strip()])
            if args.results
            else catalog.read_config(Path(args.config))
        )
    except catalog.ConfigError as error:
        raise UserError(str(error)) from None
    files, hub_ids = plan_space(sources, args.title)
    namespace, name = split_hub_model_id(args.space_id)
    if args.dry_run:
        namespace = namespace or "<your user name>"
    else:
        namespace, token = check_push_access(namespace, args.hub_token)
        api = HfApi()
        for repo_id in hub_ids:
            try:
                api.model_info(repo_id, token=token)
            except RepositoryNotFoundError:
                raise UserError(
                    f"the model {repo_id} listed for the Space is not on the Hub (or is private to "
                    "another account). Push it with `python -m training.publish` first."
                ) from None
    space_id = f"{namespace}/{name}"
    for path, value in files.items():
        size = len(value) if isinstance(value, bytes) else value.stat().st_size
        print(f"{space_id}: {path} ({size:,} bytes)")
    for repo_id in hub_ids:
        print(f"{space_id}: loads {repo_id} from the Hub")
    if args.dry_run:
        print("Dry run: nothing was uploaded.")
        return space_id
    operations = [
        CommitOperationAdd(path, value if isinstance(value, bytes) else str(value)) for path, value in files.items()
    ]
    try:
        api.create_repo(
            space_id, repo_type="space", space_sdk="gradio", private=args.private, exist_ok=True, token=token
        )
        info = api.create_commit(
            space_id, operations, repo_type="space", token=token, commit_message="Deploy the classification-lab app"
        )
    except HUB_ERRORS as error:
        raise UserError(
            f"deploying the Space {space_id} failed: {str(error).strip()}\nNothing local was changed; "
            "run the same command again."
        ) from None
    print(f"Deployed the Space {space_id} (commit {info.oid[:10]}): {api.endpoint}/spaces/{space_id}")
    return space_id


def main() -> None:
    (args,) = HfArgumentParser(DeployArguments).parse_args_into_dataclasses()
    deploy_space(args)


if __name__ == "__main__":
    run_cli(main)
