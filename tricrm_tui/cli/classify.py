"""``tricrm classify``: refresh every customer's region, size band and purchase behaviour."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_json, info
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Classify customers: region, size band and purchase behaviour."),
    invoke_without_command=True,
)


@app.callback(
    invoke_without_command=True,
    epilog=_("Example: tricrm classify --format json"),
)
def classify_cmd(
    typer_ctx: typer.Context,
    show_config: Annotated[
        bool,
        typer.Option("--show-config", help=_("Print where the rules come from and stop.")),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))] = Format.table,
) -> None:
    """Apply the classification rules (built-in defaults, overridden by classify.toml in the
    config folder) to every customer."""
    if typer_ctx.invoked_subcommand is not None:
        return
    from tricrm_tui.services import classify

    if show_config:
        rules = classify.load_rules()
        info(_("user rules file: {path}").format(path=classify.user_config_path()))
        info(_("rules in use: {sources}").format(sources=", ".join(rules.source)))
        return
    result = classify.classify_customers(ctx())
    if fmt is Format.json:
        emit_json(result)
    else:
        info(
            _("classified {count} customers ({changed} changed)").format(
                count=result.customers, changed=result.changed
            )
        )
