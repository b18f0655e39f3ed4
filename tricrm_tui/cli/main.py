"""The ``tricrm`` command: global options, the command groups, and error handling.

Start-up stays fast: this module and the group modules import only Typer and the i18n
helpers at the top; each command imports the services it needs when it runs, so
``tricrm --help`` loads neither SQLAlchemy nor Textual, numpy or scipy.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer

from tricrm_tui import __version__
from tricrm_tui.i18n import _, set_language

# (command name, module, attribute): each module defines a Typer sub-app or a single command.
GROUPS: list[tuple[str, str]] = [
    ("customers", "tricrm_tui.cli.customers"),
    ("db", "tricrm_tui.cli.db"),
    ("audit", "tricrm_tui.cli.audit"),
    ("feedback", "tricrm_tui.cli.feedback"),
    ("campaigns", "tricrm_tui.cli.campaigns"),
    ("segments", "tricrm_tui.cli.segments"),
    ("report", "tricrm_tui.cli.report"),
    ("import", "tricrm_tui.cli.importing"),
    ("export", "tricrm_tui.cli.export"),
    ("orders", "tricrm_tui.cli.orders"),
    ("interact", "tricrm_tui.cli.interact"),
    ("followups", "tricrm_tui.cli.followups"),
    ("plans", "tricrm_tui.cli.plans"),
    ("care", "tricrm_tui.cli.care"),
    ("value", "tricrm_tui.cli.value"),
    ("loyalty", "tricrm_tui.cli.loyalty"),
]
COMMANDS: list[tuple[str, str, str]] = [
    ("tui", "tricrm_tui.cli.tui", "open_tui"),
    ("demo", "tricrm_tui.cli.demo", "demo"),
    ("classify", "tricrm_tui.cli.classify", "classify"),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tricrm {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    from tricrm_tui.cli.state import STATE

    app = typer.Typer(
        name="tricrm",
        help=_("tricrm: a keyboard-first customer-management system for the terminal."),
        epilog=_("Example: tricrm --db ./shop.db customers list --search 张 --format json"),
        no_args_is_help=False,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback(invoke_without_command=True)
    def main(
        ctx: typer.Context,
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                help=_(
                    "Database: a file path (SQLite) or postgresql+psycopg://user:pw@host/db. "
                    "Default: $TRICRM_DB, else tricrm.db in the user data folder."
                ),
                metavar="URL_OR_PATH",
            ),
        ] = None,
        lang: Annotated[
            str | None,
            typer.Option(
                "--lang",
                help=_("Language: en or zh_CN (default: from the locale)."),
                metavar="LANG",
            ),
        ] = None,
        user: Annotated[
            str | None,
            typer.Option(
                "--user",
                help=_(
                    "Operator name recorded in the audit trail "
                    "(default: $TRICRM_USER or the OS user)."
                ),
            ),
        ] = None,
        debug: Annotated[
            bool, typer.Option("--debug", help=_("Show full tracebacks on errors."))
        ] = False,
        version: Annotated[
            bool,
            typer.Option(
                "--version", callback=_version, is_eager=True, help=_("Show the version and exit.")
            ),
        ] = False,
    ) -> None:
        STATE.db, STATE.user, STATE.debug = db, user, debug
        # Each command opens its own context: an app built once and invoked again (a script
        # driving Typer in one process, the test suite) must not reach the previous --db.
        if STATE._ctx is not None:
            STATE._ctx.db.dispose()  # its pooled connections (reopened on demand if still held)
        STATE._ctx = None
        if ctx.invoked_subcommand is None:
            from tricrm_tui.cli.tui import launch

            launch()

    for name, module in GROUPS:
        sub = importlib.import_module(module).app
        app.add_typer(sub, name=name)
    for name, module, attr in COMMANDS:
        fn = getattr(importlib.import_module(module), attr)
        app.command(
            name=name, help=fn.__tricrm_help__, epilog=getattr(fn, "__tricrm_epilog__", None)
        )(fn)
    return app


def _preparse_language(argv: list[str]) -> str | None:
    """``--lang`` must take effect before the help texts are built, so read it early."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


GLOBAL_VALUE_OPTIONS = ("--db", "--lang", "--user")
GLOBAL_FLAGS = ("--debug",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Let global options stand anywhere: ``tricrm customers list --db x.db`` works too.

    Click only accepts them before the subcommand; operators type them where they think of
    them, so they are moved to the front (values included) before parsing.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front += args[i : i + 2]
                i += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run(argv: list[str] | None = None) -> None:
    """Entry point: one clear line on stderr and a documented exit code for every failure."""
    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    set_language(_preparse_language(args))
    debug = "--debug" in args or bool(os.environ.get("TRICRM_DEBUG"))
    try:
        app = build_app()
        app(args=args, prog_name="tricrm", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write(_("interrupted") + "\n")
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001  (the one place errors become messages)
        if debug:
            raise
        code = getattr(exc, "exit_code", None)
        if isinstance(code, int):
            sys.stderr.write(_("error: {message}").format(message=exc) + "\n")
            raise SystemExit(code) from None
        sys.stderr.write(
            _("error: {message} (run with --debug for details)").format(
                message=f"{type(exc).__name__}: {exc}"
            )
            + "\n"
        )
        raise SystemExit(1) from None
