"""A receipt as a one-page PDF (fpdf2). Imported only by the route that serves it: fpdf2
and its font parsing stay off every other cold start.

The font is DejaVu Sans, bundled beside the code (chalicelib/fonts/, Bitstream Vera
licence), since a Lambda image has no system fonts. It covers Latin, Greek, Cyrillic,
Armenian, Georgian, Hebrew and Arabic letters; a character it has no glyph for (CJK, for
one) is printed as "?" instead of vanishing, and the email and the web page, which the
reader's own fonts draw, show the text as given."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

from chalicelib.domain.receipts import Organization, Receipt, irs_statement, receipt_rows

FONT = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
FAMILY = "dejavu"
GREY = (90, 90, 90)


def _printable(text: str, glyphs: Container[int]) -> str:
    return "".join(c if ord(c) in glyphs or c.isspace() else "?" for c in text)


def receipt_pdf(receipt: Receipt, org: Organization) -> bytes:
    pdf = FPDF(format="letter")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(FAMILY, "", str(FONT))
    font = pdf.fonts[FAMILY]
    if not isinstance(font, TTFFont):
        raise RuntimeError(f"{FONT} did not load as a TrueType font")
    glyphs: Container[int] = font.cmap

    def say(text: str) -> str:
        return _printable(text, glyphs)

    pdf.set_title(f"Donation receipt {receipt.number}")
    pdf.set_author(org.legal_name)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FAMILY, size=18)
    pdf.cell(width, 10, "Donation receipt", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    for line in (org.legal_name, org.address, f"EIN {org.ein}"):
        pdf.multi_cell(width, 5, say(line), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    label_width = 55
    for label, value in receipt_rows(receipt):
        pdf.set_text_color(*GREY)
        pdf.cell(label_width, 7, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(width - label_width, 7, say(value), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    for paragraph in irs_statement(receipt, org):
        pdf.multi_cell(width, 5, say(paragraph), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(4)
    pdf.multi_cell(
        width, 5, say(f"Thank you for your gift to {org.name}."), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())
