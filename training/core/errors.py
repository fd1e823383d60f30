"""User-facing errors: one clear message and a non-zero exit, never a traceback for a user mistake."""

import logging
import sys
from collections.abc import Callable

logger = logging.getLogger(__name__)

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem with the user's input. The message names the problem and how to fix it."""


def run_cli(main: Callable[[], object]) -> None:
    """Run a script's ``main()``, turning ``UserError`` into one message on stderr and exit code 2."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
