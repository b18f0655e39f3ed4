"""``tricrm classify``: refresh every customer's region, size band and purchase behaviour."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_json, info
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _


def classify(
    show_config: Annotated[
        bool,
        typer.Option("--show-config", help=_("Print where the rules come from and stop.")),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))] = Format.table,
) -> None:
    from tricrm_tui.services import classify as service

    if show_config:
        rules = service.load_rules()
        info(_("user rules file: {path}").format(path=service.user_config_path()))
        info(_("rules in use: {sources}").format(sources=", ".join(rules.source)))
        return
    result = service.classify_customers(ctx())
    if fmt is Format.json:
        emit_json(result)
    else:
        info(
            _("classified {count} customers ({changed} changed)").format(
                count=result.customers, changed=result.changed
            )
        )


classify.__tricrm_help__ = _(  # type: ignore[attr-defined]
    "Classify customers: region, size band and purchase behaviour "
    "(rules: built-in defaults, overridden by classify.toml in the config folder)."
)
classify.__tricrm_epilog__ = _("Example: tricrm classify --format json")  # type: ignore[attr-defined]
