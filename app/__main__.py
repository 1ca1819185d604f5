"""`certdesk` and `python -m app`: no sub-command opens the GUI, anything else is the CLI."""

import sys


def main(argv: list[str] | None = None) -> int:
    from app import cli

    args = cli.parse(sys.argv[1:] if argv is None else argv)
    if args.run is None:  # `certdesk` or `certdesk --store DIR`
        from app import qtcheck

        cannot = qtcheck.main()  # Qt's own message for a missing library is cryptic
        if cannot:
            return cannot
        from ui.application import run_gui  # Qt is imported only for the GUI

        return run_gui(args.store)
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
