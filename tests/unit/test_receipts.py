"""Receipt documents: each email rendered through the mailer and read back as an .eml, the
receipt page, and the PDF read back with pypdf."""

from __future__ import annotations

import io
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters.mailer import Org, render
from chalicelib.domain.errors import PermanentMailError
from chalicelib.domain.receipts import (
    Organization,
    Receipt,
    ReceiptLinks,
    StatementLine,
    deductible_amount,
    dispute_alert_email,
    format_money,
    receipt_email,
    receipt_page,
    recurring_canceled_email,
    refund_failed_email,
    refund_notice_email,
    statement_email,
    tribute_email,
)
from chalicelib.domain.text import has_control_character, has_line_break
from chalicelib.services.ports import OutboxMessage

ORG = Organization(
    name="Peace Org",
    legal_name="Peace Organization, Inc.",
    address="453 Freedom Parkway, Atlanta, GA 30307, USA",
    ein="12-3456789",
)
MAIL_ORG = Org(
    name=ORG.name,
    address=ORG.address,
    mail_from="Peace Org <hello@example.org>",
    legal_name=ORG.legal_name,
    ein=ORG.ein,
)
LINKS = ReceiptLinks(
    gift_url="https://api.example.org/gifts/g1?token=t",
    receipt_url="https://api.example.org/receipts/r1?token=t",
    pdf_url="https://api.example.org/receipts/r1.pdf?token=t",
)
NO_GOODS = "No goods or services were provided in exchange for this contribution."


def _receipt(**overrides: object) -> Receipt:
    values: dict[str, object] = {
        "number": "2026-01KQ3W9XZT",
        "donor_name": "Amara Okafor",
        "email": "amara@example.org",
        "paid_at": "2026-11-27T15:04:05.123Z",
        "amount": 2500,
        "currency": "usd",
        "fund_name": "Peace Programs",
    }
    return Receipt(**{**values, **overrides})  # type: ignore[arg-type]


def _eml(template: str, context: dict[str, str], org: Org = MAIL_ORG) -> EmailMessage:
    message = OutboxMessage(
        id="01JDTESTTESTTESTTESTTESTTE",
        template=template,
        to="amara@example.org",
        context=context,
        created_at="2026-11-27T15:04:06.000Z",
    )
    raw = render(message, org).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(email: EmailMessage) -> tuple[str, str]:
    text = email.get_body(("plain",))
    page = email.get_body(("html",))
    assert text is not None and page is not None
    return " ".join(text.get_content().split()), page.get_content()


def test_money_is_written_the_way_each_currency_is_read() -> None:
    assert format_money(2500, "usd") == "$25.00"
    assert format_money(123450, "eur") == "€1,234.50"
    assert format_money(500, "jpy") == "¥500"
    assert format_money(2500, "chf") == "25.00 CHF"
    assert format_money(-4000, "usd") == "-$40.00"
    assert format_money(1234, "kwd") == "1.234 KWD"


def test_the_deductible_amount_is_never_below_zero() -> None:
    assert deductible_amount(_receipt(amount=10000, premium_value=3000)) == 7000
    assert deductible_amount(_receipt(amount=2000, premium_name="Mug", premium_value=3000)) == 0


def test_a_gift_under_250_is_thanked_with_the_receipt_and_no_goods_statement() -> None:
    name, context = receipt_email(_receipt(), ORG, LINKS)
    email = _eml(name, context)
    text, page = _parts(email)
    assert "receipt" in str(email["Subject"]).lower()
    for expected in (
        "Amara Okafor",
        "$25.00",
        "USD",
        "Peace Programs",
        "2026-01KQ3W9XZT",
        "November 27, 2026",
        "Peace Organization, Inc.",
        "453 Freedom Parkway, Atlanta, GA 30307, USA",
        "EIN 12-3456789",
        NO_GOODS,
        LINKS.receipt_url,
        LINKS.pdf_url,
    ):
        assert expected in text, expected
    assert "quid pro quo" not in text.lower()
    assert "12-3456789" in page and NO_GOODS in page
    assert f'href="{LINKS.pdf_url.replace("&", "&amp;")}"' in page


def test_a_gift_of_250_or_more_is_a_written_acknowledgment() -> None:
    email = _eml(*receipt_email(_receipt(amount=25000, covered_fee=755), ORG, None))
    text, _ = _parts(email)
    for expected in ("$250.00", NO_GOODS, "EIN 12-3456789", "November 27, 2026", "$7.55"):
        assert expected in text, expected
    assert "keep this receipt" in text.lower()


def test_a_premium_above_75_gets_the_quid_pro_quo_disclosure_and_the_deductible_amount() -> None:
    receipt = _receipt(amount=10000, premium_name="Peace Programs tote bag", premium_value=3000)
    text, page = _parts(_eml(*receipt_email(receipt, ORG, LINKS)))
    assert NO_GOODS not in text
    assert "Peace Programs tote bag" in text
    assert "good-faith estimate" in text and "$30.00" in text
    assert "deductible" in text and "$70.00" in text
    assert "quid pro quo" in text.lower()
    assert "limited to the excess" in text
    assert "$70.00" in page


def test_a_small_gift_with_a_premium_states_the_value_without_the_quid_pro_quo_heading() -> None:
    receipt = _receipt(amount=5000, premium_name="Mug", premium_value=1200)
    text, _ = _parts(_eml(*receipt_email(receipt, ORG, None)))
    assert "good-faith estimate" in text and "$12.00" in text and "$38.00" in text
    assert "quid pro quo" not in text.lower()


def test_an_installment_names_its_plan_and_its_links() -> None:
    links = ReceiptLinks(
        **{**LINKS.__dict__, "cancel_url": "https://api.example.org/c?t=1", "update_card_url": None}
    )
    receipt = _receipt(frequency="monthly", tribute="In memory of Grace Hopper")
    text, _ = _parts(_eml(*receipt_email(receipt, ORG, links)))
    assert "monthly" in text.lower()
    assert "In memory of Grace Hopper" in text
    assert "https://api.example.org/c?t=1" in text


def test_a_refund_sends_a_corrected_notice() -> None:
    receipt = _receipt(amount=10000)
    email = _eml(*refund_notice_email(receipt, 4000, 4000, "2026-12-02T10:00:00.000Z", ORG))
    text, _ = _parts(email)
    assert "corrected" in str(email["Subject"]).lower()
    for expected in ("2026-01KQ3W9XZT", "$100.00", "$40.00", "$60.00", "December 2, 2026", "EIN 12-3456789"):
        assert expected in text, expected


def test_a_refund_of_a_gift_with_a_premium_lowers_the_deductible_amount() -> None:
    receipt = _receipt(amount=10000, premium_name="Tote", premium_value=3000)
    text, _ = _parts(_eml(*refund_notice_email(receipt, 5000, 5000, "2026-12-02T10:00:00.000Z", ORG)))
    assert "$20.00" in text  # 100 - 50 refunded - 30 premium


def test_the_year_end_statement_nets_out_refunds_with_totals_per_currency() -> None:
    lines = [
        StatementLine("2026-03-01T10:00:00.000Z", 5000, 0, "usd", "Peace Programs", "2026-A", "monthly"),
        StatementLine(
            "2026-04-01T10:00:00.000Z", 10000, 10000, "usd", "Health Programs", "2026-B", "one_time"
        ),
        StatementLine("2026-05-01T10:00:00.000Z", 3000, 1000, "usd", "Peace Programs", "2026-C", "monthly"),
        StatementLine("2026-06-01T10:00:00.000Z", 2000, 0, "eur", "Where needed most", "2026-D", "one_time"),
    ]
    email = _eml(*statement_email(2026, "Amara Okafor", "amara@example.org", lines, ORG))
    text, page = _parts(email)
    assert "2026" in str(email["Subject"])
    assert "$70.00" in text  # 50 + (100 - 100) + (30 - 10)
    assert "€20.00" in text
    assert "2026-B" in text and "$100.00" in text  # the refunded gift is listed, netted to zero
    assert "EIN 12-3456789" in text
    assert "<table" in page and "<td>2026-B</td>" in page


HOSTILE = "<script>alert(1)</script>=?utf-8?q?x=0D=0ABcc:_v@evil.example?=\r\nBcc: v@evil.example\u2028X: y"
ONE_LINE = "<script>alert(1)</script>=?utf-8?q?x=0D=0ABcc:_v@evil.example?= Bcc: v@evil.example X: y"


def _inert(email: EmailMessage) -> None:
    assert sorted(email.keys()) == sorted(
        ["Subject", "From", "To", "Message-ID", "Date", "MIME-Version", "Content-Type"]
    )
    _, page = _parts(email)
    assert "<script>" not in page and "&lt;script&gt;" in page
    text = email.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    # One line wherever it stands (a paragraph may wrap it at a space), and never decoded.
    assert ONE_LINE in " ".join(content.split())
    assert "\u2028" not in content and "\r" not in content.replace("\r\n", "\n")


def test_hostile_donor_text_stays_inert_in_every_email() -> None:
    receipt = _receipt(donor_name=HOSTILE, tribute=HOSTILE, premium_name=HOSTILE, premium_value=100)
    email = _eml(*receipt_email(receipt, ORG, LINKS))
    _inert(email)
    plain = email.get_body(("plain",))
    assert plain is not None and f"Dear {ONE_LINE}," in plain.get_content().splitlines()
    _inert(_eml(*refund_notice_email(receipt, 100, 100, "2026-12-02T10:00:00.000Z", ORG)))
    line = StatementLine("2026-03-01T10:00:00.000Z", 5000, 0, "usd", HOSTILE, HOSTILE, "one_time")
    _inert(_eml(*statement_email(2026, HOSTILE, "amara@example.org", [line], ORG)))
    _inert(_eml(*tribute_email(HOSTILE, HOSTILE, "memory", HOSTILE, ORG)))
    _inert(
        _eml(*recurring_canceled_email(HOSTILE, 2500, "usd", "monthly", HOSTILE, "2026-12-01T00:00:00Z", ORG))
    )
    _inert(_eml(*dispute_alert_email("d1", 2500, "usd", HOSTILE, None, "open")))
    _inert(_eml(*refund_failed_email("d1", HOSTILE, 2500, "usd", HOSTILE)))


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=40), tribute=st.text(max_size=40), fund=st.text(max_size=20))
def test_any_donor_text_keeps_the_receipt_to_its_rows_and_renders(name: str, tribute: str, fund: str) -> None:
    receipt = _receipt(donor_name=name, tribute=tribute or None, fund_name=fund)
    template, context = receipt_email(receipt, ORG, LINKS)
    rows = context["summary_rows"].split("\n")
    assert len(rows) == 6 + (1 if tribute else 0)
    assert all(len(row.split("\t")) == 2 for row in rows)
    cells = [cell for value in context.values() for line in value.split("\n") for cell in line.split("\t")]
    assert not any(has_line_break(cell) or has_control_character(cell) for cell in cells)
    _eml(template, context)


def test_a_tribute_notice_never_states_the_amount() -> None:
    name, context = tribute_email("Amara Okafor", "Grace Hopper", "memory", "Peace Programs", ORG)
    text, _ = _parts(_eml(name, context))
    assert "in memory of Grace Hopper" in text and "Amara Okafor" in text and "Peace Programs" in text
    assert "$" not in text and not any(key in context for key in ("amount", "currency"))
    honor, _ = _parts(_eml(*tribute_email("Amara", "Ada", "honor", "Peace Programs", ORG)))
    assert "in honor of Ada" in honor


def test_a_dispute_alert_and_a_cancellation_say_what_happened() -> None:
    alert, _ = _parts(
        _eml(*dispute_alert_email("01DON", 12345, "usd", "fraudulent", "2026-12-10T23:59:59Z", "open"))
    )
    for expected in ("01DON", "$123.45", "fraudulent", "December 10, 2026", "open"):
        assert expected in alert, expected
    canceled, _ = _parts(
        _eml(
            *recurring_canceled_email(
                "Amara", 2500, "usd", "monthly", "Peace Programs", "2026-12-01T00:00:00Z", ORG
            )
        )
    )
    for expected in ("Amara", "$25.00", "monthly", "Peace Programs", "December 1, 2026"):
        assert expected in canceled, expected


def test_a_receipt_template_without_an_ein_fails_to_render() -> None:
    without_ein = Org(name=ORG.name, address=ORG.address, mail_from="Peace Org <hello@example.org>")
    with pytest.raises(PermanentMailError):
        _eml(*receipt_email(_receipt(), ORG, None), org=without_ein)


def test_the_receipt_page_is_escaped_and_prints() -> None:
    from chalicelib.api.pages import receipt

    body = receipt_page(_receipt(donor_name=HOSTILE, refunded=1000), ORG, LINKS)
    assert "<script>" not in body and "&lt;script&gt;" in body
    for expected in ("$25.00", "$10.00", "EIN 12-3456789", NO_GOODS, "Peace Organization, Inc."):
        assert expected in body, expected
    response = receipt(_receipt(), ORG, LINKS)
    document = str(response.body)
    assert "@media print" in document and "<nav" not in document
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert 'class="no-print"' in document and "@page" in document


@pytest.mark.parametrize(
    "donor_name, shown",
    [("Amara Okafor", "Amara Okafor"), ("Дмитрий Шостакович", "Дмитрий Шостакович"), ("山田 Zoë", "?? Zoë")],
    ids=["ascii", "cyrillic", "cjk"],
)
def test_the_pdf_receipt_holds_the_amount_and_the_ein(donor_name: str, shown: str) -> None:
    from pypdf import PdfReader

    from chalicelib.adapters.receipt_pdf import receipt_pdf

    data = receipt_pdf(_receipt(donor_name=donor_name, amount=123450), ORG)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("$1,234.50", "12-3456789", "2026-01KQ3W9XZT", shown, "Peace Organization, Inc."):
        assert expected in text, expected


def test_the_receipt_settings_default_and_validate() -> None:
    from chalicelib.config import MissingSettingError, load_settings

    from .test_config_keys import BASE

    settings = load_settings({**BASE, "STEWARD_ORG_NAME": "Peace Org"})
    assert settings.org_legal_name == "Peace Org" and settings.org_ein is None
    with pytest.raises(MissingSettingError, match="STEWARD_ORG_EIN"):
        settings.organization  # noqa: B018 (required only where receipts are written)
    for bad in ("123456789", "12-345678", "ab-cdefghi", "12-34567890"):
        with pytest.raises(MissingSettingError, match="STEWARD_ORG_EIN"):
            load_settings({**BASE, "STEWARD_ORG_EIN": bad})
    settings = load_settings(
        {**BASE, "STEWARD_ORG_EIN": "12-3456789", "STEWARD_ORG_LEGAL_NAME": "Peace, Inc."}
    )
    assert settings.organization == Organization(
        settings.org_name, "Peace, Inc.", settings.org_address, "12-3456789"
    )


def test_a_link_that_is_not_http_is_refused() -> None:
    with pytest.raises(PermanentMailError):
        _eml(
            "receipt",
            {**receipt_email(_receipt(), ORG, None)[1], "action_links": "Open\tjavascript:alert(1)"},
        )
