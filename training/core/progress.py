"""Progress bars and timings for the long data steps (checking and hashing files, tokenizing, building
vocabularies), shown by the main process only: under ``torchrun`` every process runs them."""

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

T = TypeVar("T")


def is_main_process() -> bool:
    """Whether this is the main process (rank 0 of ``torchrun``/``accelerate launch``, or a plain run)."""
    return int(os.environ.get("RANK", "0")) == 0


def announce_start(script: str) -> None:
    """A first line at once: importing PyTorch, transformers and datasets takes about 10 s on a small CPU."""
    if is_main_process():
        print(f"{Path(script).name}: starting (loading PyTorch and transformers)...", file=sys.stderr, flush=True)


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterable[T]:
    """``items`` with a progress bar on the main process."""
    return tqdm(items, desc=description, total=total, disable=not is_main_process(), leave=False)


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Log how long a step took."""
    start = time.perf_counter()
    yield
    logger.info("%s: %.1f s", what, time.perf_counter() - start)
