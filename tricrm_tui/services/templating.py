"""Message templates: Jinja2 in its sandbox, so a template can personalise but not escape.

Templates are written by operators and stored in the database, so they are untrusted code.
Jinja2's ``ImmutableSandboxedEnvironment`` refuses attribute access to Python internals
(``__class__``, ``__globals__``, ``mro``…) and methods that mutate data; ``StrictUndefined``
makes a misspelt field fail at preview instead of sending "Dear ," to thousands. HTML bodies
are rendered with autoescape on, so a customer's name cannot inject markup.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput


def is_html(text: str) -> bool:
    """A template whose first character is ``<`` is an HTML body."""
    return text.lstrip().startswith("<")


@cache
def environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=html, keep_trailing_newline=True
    )


def check(text: str, *, field: str = "template") -> set[str]:
    """Parse a template; return the fields it uses (Jinja's own globals such as ``range``
    aside). Syntax errors name the line."""
    env = environment(is_html(text))
    try:
        return meta.find_undeclared_variables(env.parse(text)) - set(env.globals)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, field) from exc


def render(text: str, fields: dict[str, Any], *, field: str = "template") -> str:
    """Render with the sandbox; unknown fields and unsafe access raise InvalidInput."""
    env = environment(is_html(text))
    try:
        return env.from_string(text).render(**fields)
    except SecurityError as exc:
        raise InvalidInput(
            _("template refused: {error}").format(error=exc), field=field, code="unsafe_template"
        ) from exc
    except UndefinedError as exc:
        raise InvalidInput(
            _("template uses an unknown field: {error}").format(error=exc.message),
            field=field,
            code="undefined_field",
        ) from exc
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, field) from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidInput(
            _("template failed: {error}").format(error=exc), field=field, code="template_failed"
        ) from exc


def _syntax_error(exc: TemplateSyntaxError, field: str) -> InvalidInput:
    return InvalidInput(
        _("template error on line {line}: {error}").format(line=exc.lineno, error=exc.message),
        field=field,
        code="template_syntax",
    )
