"""Email delivery over SMTP with the standard library's ``smtplib``.

Settings come from ``smtp.toml`` in the config folder, overridden by ``TRICRM_SMTP_HOST``,
``_PORT``, ``_USER``, ``_PASSWORD``, ``_SECURITY`` (``none``, ``starttls`` or ``ssl``),
``_FROM``, ``_CA_FILE`` (a PEM bundle, for a relay signed by a private CA) and ``_TIMEOUT``
(seconds). The connection is opened and logged in before anything is sent, so an
unreachable server, a bad certificate or a wrong password fails the whole send with one
clear error and nothing is marked as sent; a recipient the server refuses fails only that
recipient, with the server's reason.
"""

from __future__ import annotations

import html
import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType

from tricrm_tui.i18n import _
from tricrm_tui.services.config_files import read_toml
from tricrm_tui.services.errors import InvalidInput, TricrmError

SECURITY_MODES = ("none", "starttls", "ssl")


class DeliveryError(TricrmError):
    """The SMTP server cannot be reached or dropped the connection."""

    exit_code = 1


class RecipientFailed(Exception):
    """The server refused one message; ``reason`` is its reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = None
    security: str = "none"
    sender: str = "tricrm@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name verified, against the system store or ``ca_file``."""
        return ssl.create_default_context(cafile=self.ca_file)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_settings() -> SmtpSettings:
    values: dict[str, object] = {}
    data = read_toml("smtp.toml", field="smtp")
    data = data.get("smtp", data)
    values.update({k: v for k, v in data.items() if k != "from"})
    if "from" in data:
        values["sender"] = data["from"]
    for key in ("host", "port", "user", "password", "security", "from", "ca_file", "timeout"):
        env = os.environ.get(f"TRICRM_SMTP_{key.upper()}")
        if env is not None:
            values["sender" if key == "from" else key] = env
    known = set(SmtpSettings.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise InvalidInput(
            _("unknown SMTP setting: {name}").format(name=", ".join(sorted(unknown))),
            field="smtp",
        )
    try:
        if "port" in values:
            values["port"] = int(str(values["port"]))
        if "timeout" in values:
            values["timeout"] = float(str(values["timeout"]))
    except ValueError as exc:
        raise InvalidInput(_("SMTP port must be a number"), field="smtp") from exc
    security = str(values.get("security", "none")).lower()
    if security not in SECURITY_MODES:
        raise InvalidInput(
            _("SMTP security must be one of: {choices}").format(choices=", ".join(SECURITY_MODES)),
            field="smtp",
        )
    values["security"] = security
    return SmtpSettings(**values)  # type: ignore[arg-type]


def build_message(
    settings: SmtpSettings, to: str, subject: str, body: str, *, html: bool = False
) -> EmailMessage:
    """A UTF-8 message; non-ASCII subjects are RFC 2047-encoded by the email package.

    An HTML body goes out as multipart/alternative with a plain-text part first, for mail
    clients that show no HTML (and because spam filters distrust HTML-only mail)."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    if html:
        msg.set_content(plain_text(body), charset="utf-8")
        msg.add_alternative(body, subtype="html", charset="utf-8")
    else:
        msg.set_content(body, charset="utf-8")
    return msg


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>")
_TAG = re.compile(r"<[^>]+>")


def plain_text(markup: str) -> str:
    """The text of an HTML body: line breaks at block ends, tags dropped, entities decoded."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", markup))
    lines = (" ".join(line.split()) for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


class Mailer:
    """One SMTP session for a whole send: ``with Mailer(settings) as m: m.send(msg)``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=s.tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=s.tls_context())
            if s.user:
                smtp.login(s.user, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                _("cannot connect to the SMTP server {where}: {error}; nothing was sent").format(
                    where=s.where, error=exc
                )
            ) from exc
        self._smtp = smtp
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def send(self, msg: EmailMessage) -> None:
        assert self._smtp is not None, "use Mailer as a context manager"
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise RecipientFailed(_reason(next(iter(exc.recipients.values())))) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise RecipientFailed(_reason((exc.smtp_code, exc.smtp_error))) from exc
        except smtplib.SMTPDataError as exc:
            raise RecipientFailed(_reason((exc.smtp_code, exc.smtp_error))) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise DeliveryError(
                _("the SMTP server {where} closed the connection: {error}").format(
                    where=self.settings.where, error=exc
                )
            ) from exc
        if refused:
            raise RecipientFailed(_reason(next(iter(refused.values()))))


def _reason(reply: tuple[int, bytes | str]) -> str:
    code, text = reply
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()
