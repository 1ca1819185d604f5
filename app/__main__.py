"""`certdesk` and `python -m app`: no sub-command opens the GUI, anything else is the CLI."""

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from app import cli

    if cli.wants_gui(args):
        from ui.application import run_gui  # Qt is imported only for the GUI

        return run_gui(cli.store_option(args))
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
