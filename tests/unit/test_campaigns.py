"""Campaigns: audience, consent, contact cap, sandboxed templates, real SMTP delivery on
loopback (aiosmtpd), CSV export, idempotent re-sends and attribution."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import email
import socket
from collections.abc import Iterator
from decimal import Decimal
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from jinja2.sandbox import SecurityError

from tests.factories import add_customer, add_orders
from tricrm_tui.models import CampaignSend, Customer, Interaction, Segment
from tricrm_tui.services import campaigns, customers, templating
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.mailer import DeliveryError

NOW = dt.datetime(2026, 3, 15, 1, 0, tzinfo=dt.UTC)
REFUSED = "refuse@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses one address with 550."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("TRICRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRICRM_SMTP_PORT", str(port))
    monkeypatch.setenv("TRICRM_SMTP_FROM", "店铺 <shop@example.com>")
    try:
        yield inbox
    finally:
        controller.stop()


def at(ctx, when: dt.datetime = NOW):  # type: ignore[no-untyped-def]
    return dataclasses.replace(ctx, clock=lambda: when)


def set_columns(ctx, code: str, **values) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        s.execute(sa.update(Customer.__table__).where(Customer.code == code).values(**values))


def add_segment(ctx, name: str, expression: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.transaction() as s:
        s.execute(sa.insert(Segment.__table__).values(name=name, expression=expression))


def sends(ctx) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with ctx.session() as s:
        rows = s.execute(
            sa.select(Customer.code, CampaignSend.status, CampaignSend.error).join(
                Customer, Customer.id == CampaignSend.customer_id
            )
        ).all()
    return {code: (status, error) for code, status, error in rows}


def high_value_customers(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟", email="zhang@example.com", city="上海")
    add_customer(ctx, "C2", "李娜", email=REFUSED)
    add_customer(ctx, "C3", "王芳", email="wang@example.com")
    add_customer(ctx, "C4", "赵敏", email="zhao@example.com")
    for code in ("C1", "C2", "C3"):
        set_columns(ctx, code, value_tier="high", points_balance=1200, member_level="金卡")
    add_segment(ctx, "高价值", "tier:high")


EMAIL_TEMPLATE = "{{ name }}您好：您有{{ points }}积分（{{ level }}），{{ city }}门店欢迎您。"


def test_email_delivery_to_a_real_smtp_server(ctx, smtp_server: Inbox) -> None:  # type: ignore[no-untyped-def]
    high_value_customers(ctx)
    campaigns.create_campaign(
        ctx,
        "春季回馈",
        channel="email",
        segment="高价值",
        subject="{{ name }}，春季回馈",
        template=EMAIL_TEMPLATE,
    )
    result = campaigns.send(at(ctx), "春季回馈")
    assert result.counts == {"sent": 2, "failed": 1}

    assert len(smtp_server.messages) == 2
    by_to = {m["To"]: m for m in smtp_server.messages}
    msg = by_to["zhang@example.com"]
    assert msg["Subject"] == "张伟，春季回馈"
    assert msg["From"] == "店铺 <shop@example.com>"
    assert msg.get_content().strip() == "张伟您好：您有1200积分（金卡），上海门店欢迎您。"
    assert msg["Message-ID"] and msg["Date"]
    assert smtp_server.envelopes[0][0] == "shop@example.com"

    outcome = sends(ctx)
    assert outcome["C1"] == ("sent", None) and outcome["C3"] == ("sent", None)
    assert outcome["C2"][0] == "failed" and "550" in outcome["C2"][1]
    assert "C4" not in outcome  # not in the segment

    # Re-sending skips those already reached and retries the failure only.
    again = campaigns.send(at(ctx), "春季回馈")
    assert again.counts == {"already_sent": 2, "failed": 1}
    assert len(smtp_server.messages) == 2
    report = campaigns.report(ctx, "春季回馈")
    assert (report.sent, report.failed, report.delivered) == (2, 1, 2)
    assert campaigns.get_campaign(ctx, "春季回馈").status == "sent"


def test_server_down_sends_nothing(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    high_value_customers(ctx)
    monkeypatch.setenv("TRICRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRICRM_SMTP_PORT", str(free_port()))
    campaigns.create_campaign(ctx, "x", channel="email", subject="s", template="hi {{ name }}")
    with pytest.raises(DeliveryError, match="cannot connect"):
        campaigns.send(ctx, "x")
    assert sends(ctx) == {}
    assert campaigns.get_campaign(ctx, "x").status == "draft"


def test_smtp_settings_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tricrm_tui.services.mailer import smtp_settings

    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "smtp.toml").write_text(
        '[smtp]\nhost = "mail.example.com"\nport = 587\nsecurity = "starttls"\n'
        'user = "u"\npassword = "p"\nfrom = "a@example.com"\n',
        encoding="utf-8",
    )
    s = smtp_settings()
    assert (s.host, s.port, s.security, s.user, s.sender) == (
        "mail.example.com",
        587,
        "starttls",
        "u",
        "a@example.com",
    )
    monkeypatch.setenv("TRICRM_SMTP_SECURITY", "SSL")
    monkeypatch.setenv("TRICRM_SMTP_PORT", "465")
    assert (smtp_settings().security, smtp_settings().port) == ("ssl", 465)
    monkeypatch.setenv("TRICRM_SMTP_SECURITY", "tls13")
    with pytest.raises(InvalidInput):
        smtp_settings()


def test_starttls_required_but_unsupported_is_a_clear_error(
    ctx, smtp_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The loopback server offers no STARTTLS: asking for it fails before anything is sent."""
    high_value_customers(ctx)
    monkeypatch.setenv("TRICRM_SMTP_SECURITY", "starttls")
    campaigns.create_campaign(ctx, "x", channel="email", subject="s", template="hi")
    with pytest.raises(DeliveryError):
        campaigns.send(ctx, "x")
    assert sends(ctx) == {} and smtp_server.messages == []


def test_consent_and_missing_address(ctx, smtp_server: Inbox) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", email="a@example.com")
    add_customer(ctx, "C2", email="b@example.com", consent={"email": False})
    add_customer(ctx, "C3")
    campaigns.create_campaign(ctx, "x", channel="email", subject="s", template="hi {{ code }}")
    dry = campaigns.send(ctx, "x", dry_run=True)
    assert dry.counts == {"ready": 1, "skipped_consent": 1, "failed": 1}
    assert sends(ctx) == {} and smtp_server.messages == []
    campaigns.send(ctx, "x")
    assert sends(ctx) == {
        "C1": ("sent", None),
        "C2": ("skipped_consent", None),
        "C3": ("failed", "no email address"),
    }
    assert [m["To"] for m in smtp_server.messages] == ["a@example.com"]


def test_contact_cap(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Cap 2 in 30 days: C1 had 2 outbound contacts within the window → skipped; C2 had 2,
    one of them 40 days ago → exported; inbound contacts do not count."""
    for code in ("C1", "C2", "C3"):
        add_customer(ctx, code, phone="13800138000")
    with ctx.transaction() as s:
        ids = dict(s.execute(sa.select(Customer.code, Customer.id)).all())
        rows = [
            ("C1", 3, "outbound"),
            ("C1", 10, "outbound"),
            ("C2", 3, "outbound"),
            ("C2", 40, "outbound"),
            ("C3", 1, "inbound"),
            ("C3", 2, "inbound"),
        ]
        s.execute(
            sa.insert(Interaction.__table__),
            [
                {
                    "customer_id": ids[c],
                    "channel": "phone",
                    "direction": d,
                    "occurred_at": NOW - dt.timedelta(days=days),
                }
                for c, days, d in rows
            ],
        )
    campaigns.create_campaign(ctx, "call", channel="phone", template="请致电{{ name }}")
    out = tmp_path / "calls.csv"
    result = campaigns.send(at(ctx), "call", export=out, cap=(2, 30))
    assert result.counts == {"skipped_cap": 1, "exported": 2}
    assert sends(ctx)["C1"] == ("skipped_cap", None)
    with out.open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    assert [r["code"] for r in exported] == ["C2", "C3"]
    assert exported[0]["phone"] == "+8613800138000" and exported[0]["message"] == "请致电客户C2"


def test_cap_counts_other_campaigns(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", phone="13800138000")
    campaigns.create_campaign(ctx, "a", channel="sms", template="a")
    campaigns.create_campaign(ctx, "b", channel="sms", template="b")
    campaigns.send(at(ctx), "a", export=tmp_path / "a.csv", cap=(1, 30))
    result = campaigns.send(at(ctx), "b", export=tmp_path / "b.csv", cap=(1, 30))
    assert result.counts == {"skipped_cap": 1}
    # A later run after the window reopens: the skipped customer is retried.
    later = at(ctx, NOW + dt.timedelta(days=31))
    assert campaigns.send(later, "b", export=tmp_path / "b2.csv", cap=(1, 30)).counts == {
        "exported": 1
    }


def test_sms_needs_export(ctx) -> None:  # type: ignore[no-untyped-def]
    campaigns.create_campaign(ctx, "s", channel="sms", template="hi")
    with pytest.raises(InvalidInput, match="export"):
        campaigns.send(ctx, "s")


def test_templates_cannot_reach_python_internals() -> None:
    for text in (
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ name.__class__.__base__.__subclasses__() }}",
    ):
        with pytest.raises(InvalidInput) as err:
            templating.render(text, {"name": "x"})
        assert err.value.code == "unsafe_template"
        assert isinstance(err.value.__cause__, SecurityError)
    with pytest.raises(InvalidInput) as err:  # the immutable sandbox: no mutation either
        templating.render("{{ recommended.append(1) }}", {"recommended": []})
    assert isinstance(err.value.__cause__, SecurityError)


def test_html_templates_escape_customer_data() -> None:
    out = templating.render("<p>{{ name }}</p>", {"name": "<script>x</script>"})
    assert out == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    assert templating.render("{{ name }}", {"name": "<b>"}) == "<b>"


def test_template_checks_at_create_and_preview(ctx) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟", email="a@example.com")
    with pytest.raises(InvalidInput) as err:
        campaigns.create_campaign(ctx, "x", channel="email", subject="s", template="{{ nmae }}")
    assert err.value.code == "undefined_field" and "nmae" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        campaigns.create_campaign(ctx, "x", channel="email", subject="s", template="{% if %}")
    assert err.value.code == "template_syntax"
    with pytest.raises(InvalidInput):
        campaigns.create_campaign(ctx, "x", channel="email", template="hi")  # no subject
    with pytest.raises(NotFound):
        campaigns.create_campaign(ctx, "x", channel="sms", template="hi", segment="nope")
    campaigns.create_campaign(
        ctx, "x", channel="email", subject="s", template="{{ ''.__class__ }}{{ name }}"
    )
    with pytest.raises(InvalidInput) as err:
        campaigns.preview(ctx, "x", "C1")
    assert err.value.code == "unsafe_template"
    with pytest.raises(InvalidInput):
        campaigns.create_campaign(ctx, "x", channel="sms", template="hi")  # duplicate


def test_preview_per_customer_with_recommendations(ctx) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.test_recommend import add_products, baskets

    products = add_products(ctx, "绿茶", "茶杯")
    baskets(ctx, {"A": ["绿茶", "茶杯"], "E": ["绿茶"]}, products)
    set_columns(ctx, "E", value_tier="high", phone="+8613800138000")
    add_segment(ctx, "high", "tier:high")
    add_customer(ctx, "Z", "外人")
    campaigns.create_campaign(
        ctx,
        "rec",
        channel="sms",
        segment="high",
        template="{{ name }}：{% for p in recommended %}{{ p.name }}（{{ p.reason }}）{% endfor %}"
        "—{{ operator }}",
    )
    page = campaigns.preview_page(ctx, "rec", limit=3)
    assert page.total == 1
    (p,) = page.items
    assert p.code == "E" and p.status == "ready"
    assert p.body == "客户E：茶杯（bought with 绿茶）—tester"
    outsider = campaigns.preview(ctx, "rec", "Z")
    assert outsider.status == "not_in_segment" and outsider.body == "外人：—tester"
    assert campaigns.list_campaigns(ctx).items[0].name == "rec"


def test_attribution_window(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Sent 2026-03-15 (local day of NOW), window 7 days → orders 03-15..03-22 count."""
    for code in ("C1", "C2", "C3", "C4"):
        add_customer(ctx, code, phone="13800138000")
    add_customer(ctx, "C5", phone="13800138000", consent={"sms": False})
    campaigns.create_campaign(ctx, "w", channel="sms", template="hi", attribution_days=7)
    campaigns.send(at(ctx), "w", export=tmp_path / "w.csv")
    send_day = NOW.astimezone().date()
    add_orders(ctx, "C1", [(send_day, "100.10"), (send_day + dt.timedelta(days=7), "50.05")])
    add_orders(ctx, "C2", [(send_day + dt.timedelta(days=8), "999")])  # after the window
    add_orders(ctx, "C3", [(send_day - dt.timedelta(days=1), "999")])  # before the send
    add_orders(ctx, "C4", [(send_day + dt.timedelta(days=2), "20")], status="cancelled")
    add_orders(ctx, "C5", [(send_day + dt.timedelta(days=1), "999")])  # skipped: not a recipient
    with ctx.transaction() as s:
        cid, camp = s.execute(
            sa.select(CampaignSend.customer_id, CampaignSend.campaign_id)
            .join(Customer, Customer.id == CampaignSend.customer_id)
            .where(Customer.code == "C2")
        ).one()
        s.execute(
            sa.insert(Interaction.__table__).values(
                customer_id=cid,
                channel="sms",
                direction="inbound",
                occurred_at=NOW,
                campaign_id=camp,
            )
        )
    r = campaigns.report(ctx, "w")
    assert (r.exported, r.skipped_consent, r.skipped, r.delivered) == (4, 1, 1, 4)
    assert (r.responses, r.response_rate) == (1, Decimal("25.0"))
    assert (r.conversions, r.conversion_rate) == (1, Decimal("25.0"))
    assert r.revenue == Decimal("150.15")


def test_contact_cap_from_config(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir(exist_ok=True)
    path = tmp_path / "config" / "campaigns.toml"
    assert campaigns.contact_cap() == campaigns.DEFAULT_CAP
    path.write_text("[contact_cap]\ncount = 2\ndays = 7\n", encoding="utf-8")
    assert campaigns.contact_cap() == (2, 7)
    path.write_text("[contact_cap\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        campaigns.contact_cap()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN) and its key, so the client verifies the host."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A loopback server that requires STARTTLS and a login (shop / secret)."""
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"shop",
            b"secret",
        )
        return AuthResult(success=ok)

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    for key_name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECURITY": "starttls",
        "USER": "shop",
        "PASSWORD": "secret",
        "FROM": "shop@example.com",
        "CA_FILE": str(cert),
    }.items():
        monkeypatch.setenv(f"TRICRM_SMTP_{key_name}", value)
    try:
        yield inbox
    finally:
        controller.stop()


def test_starttls_and_login(ctx, tls_server: Inbox) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "张伟", email="zhang@example.com")
    campaigns.create_campaign(ctx, "tls", channel="email", subject="你好", template="{{ name }}")
    assert campaigns.send(ctx, "tls").counts == {"sent": 1}
    (msg,) = tls_server.messages
    assert msg["Subject"] == "你好" and msg.get_content().strip() == "张伟"


def test_starttls_with_an_untrusted_certificate_sends_nothing(
    ctx, tls_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TRICRM_SMTP_CA_FILE")
    add_customer(ctx, "C1", email="zhang@example.com")
    campaigns.create_campaign(ctx, "tls", channel="email", subject="s", template="x")
    with pytest.raises(DeliveryError, match="cannot connect"):
        campaigns.send(ctx, "tls")
    assert sends(ctx) == {} and tls_server.messages == []


def test_wrong_password_sends_nothing(
    ctx, tls_server: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRICRM_SMTP_PASSWORD", "wrong")
    # aiosmtpd answers a failed login only after its own delay; the client gives up sooner.
    monkeypatch.setenv("TRICRM_SMTP_TIMEOUT", "2")
    add_customer(ctx, "C1", email="zhang@example.com")
    campaigns.create_campaign(ctx, "tls", channel="email", subject="s", template="x")
    with pytest.raises(DeliveryError):
        campaigns.send(ctx, "tls")
    assert sends(ctx) == {} and tls_server.messages == []


class DroppingInbox(Inbox):
    """Accepts the first message, then drops the connection in the middle of the second."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.messages:
            server.transport.close()
            return "421 going away"
        return await super().handle_DATA(server, session, envelope)


def test_connection_lost_mid_send_keeps_what_went_out(ctx, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    inbox = DroppingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("TRICRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRICRM_SMTP_PORT", str(port))
    try:
        for code in ("C1", "C2", "C3"):
            add_customer(ctx, code, email=f"{code.lower()}@example.com")
        campaigns.create_campaign(ctx, "drop", channel="email", subject="s", template="x")
        with pytest.raises(DeliveryError, match="closed the connection"):
            campaigns.send(ctx, "drop")
    finally:
        controller.stop()
    assert sends(ctx) == {"C1": ("sent", None)}
    assert [m["To"] for m in inbox.messages] == ["c1@example.com"]


def test_html_email_has_a_plain_text_part(ctx, smtp_server: Inbox) -> None:  # type: ignore[no-untyped-def]
    add_customer(ctx, "C1", "<张伟>", email="zhang@example.com")
    campaigns.create_campaign(
        ctx,
        "html",
        channel="email",
        subject="{{ name }}",
        template="<p>{{ name }}您好</p><p>积分&nbsp;{{ points }}</p>",
    )
    assert campaigns.send(ctx, "html").counts == {"sent": 1}
    (msg,) = smtp_server.messages
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "<张伟>"
    text = msg.get_body(("plain",)).get_content()
    markup = msg.get_body(("html",)).get_content()
    assert "<p>&lt;张伟&gt;您好</p>" in markup
    assert text.splitlines() == ["<张伟>您好", "积分 0"]


def test_a_campaign_export_never_writes_over_the_database_and_runs_no_formula(
    ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """``campaigns send --export shop.db`` cut the SQLite database to a CSV header."""
    customers.add_customer(ctx, {"code": "F1", "name": "=HYPERLINK(1)", "phone": "13800138001"})
    campaigns.create_campaign(ctx, "sms", channel="sms", template="hi {{ name }}")
    if ctx.db.backend == "sqlite":
        with pytest.raises(InvalidInput, match="is the database tricrm is using"):
            campaigns.send(ctx, "sms", export=ctx.db.engine.url.database)
    with pytest.raises(InvalidInput, match="cannot write"):
        campaigns.send(ctx, "sms", export=tmp_path / "missing" / "x.csv")
    out = tmp_path / "sms.csv"
    assert campaigns.send(ctx, "sms", export=out).counts == {"exported": 1}
    with out.open(encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["name"], row["message"]) == ("'=HYPERLINK(1)", "hi =HYPERLINK(1)")
