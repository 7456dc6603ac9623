"""``python -m fraisec`` and the ``fraisec``/``fraiseql`` console scripts.

The CLI is imported inside :func:`run`, so a Ctrl-C while it is still loading ends like any
other interrupt (exit 130, no traceback); from then on :func:`fraisec.cli.main` handles it.
"""

import sys


def run() -> None:
    try:
        from fraisec.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("fraisec: interrupted: nothing was changed\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
