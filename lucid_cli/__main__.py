"""``python -m lucid_cli`` and the ``lucid`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line. A Ctrl-C while it starts (its imports take a few tenths of a
    second) ends as one later does: ``error: interrupted``, exit code 130, no traceback."""
    try:
        from lucid_cli.app import app
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None
    app()


if __name__ == "__main__":
    main()
