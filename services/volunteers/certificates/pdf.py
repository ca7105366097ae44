"""The printable certificate: an A4 PDF in Chinese, made with fpdf2 from the signed content.

Chinese needs a CJK font, embedded as a subset of the glyphs the page uses (a certificate
weighs tens of kilobytes, not the font's megabytes). The font is WenQuanYi Micro Hei from
Debian's `fonts-wqy-microhei` (TrueType outlines), which the project's setup installs;
VOLUNTEERS_CERTIFICATE_FONT names another TrueType/OpenType file (face 0 of a collection).
The service checks the font when it starts (`CertificateFont`), never at the first download.

The PDF carries the certificate document (certificate.json, with its signature) as an
attachment, so that whoever holds the PDF can verify it offline with the published keys.
"""

from datetime import date

from fontTools.ttLib import TTFont, TTLibError
from fpdf import FPDF
from fpdf.fonts import FontFace

from services.volunteers.certificates.signing import canonical

FONT_VARIABLE = "VOLUNTEERS_CERTIFICATE_FONT"
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Debian: fonts-wqy-microhei
FAMILY = "cjk"
TITLE = "志愿服务记录证明"
# Characters every certificate prints; a font without them cannot render one.
PROBE = TITLE + "兹证明编号时长小时序日期活动名称出具单位验证码核特此页共0123456789ABCZ-：（）"
VERIFY_PATH = "/api/v1/certificates/{number}/verify?code={code}"  # the gateway's public route
COLUMNS = (("序号", 12), ("服务日期", 30), ("活动名称", 98), ("时长（小时）", 30))  # widths in mm: 170 in all


class FontConfigurationError(ValueError):
    """The configured font cannot print a certificate; the service refuses to start."""


class CertificateFont:
    """A font file checked to hold the glyphs a certificate needs."""

    def __init__(self, path):
        try:
            font = TTFont(path, fontNumber=0, lazy=True)
            cmap = font.getBestCmap() or {}
        except (OSError, TTLibError) as exc:
            raise FontConfigurationError(
                f"{FONT_VARIABLE}: cannot read the font {path} ({exc}); "
                "install Debian's fonts-wqy-microhei or name a CJK TrueType/OpenType font"
            ) from None
        missing = sorted({character for character in PROBE if ord(character) not in cmap})
        if missing:
            raise FontConfigurationError(f"{FONT_VARIABLE}: the font {path} lacks {''.join(missing)}: not a CJK font")
        self.path = path


def _chinese_date(iso):
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def _hours(text):
    """Hours as printed: "12.50" as 12.5, "3.00" as 3."""
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Page(FPDF):
    number = ""

    def footer(self):
        self.set_y(-15)
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 6, f"证明编号 {self.number}    第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


def render(document, font):
    """The PDF (bytes) of a certificate `document` (domain.document), printed with `font` (a
    CertificateFont)."""
    content, code = document["certificate"], document["verification_code"]
    pdf = _Page(format="A4")
    pdf.number = content["number"]
    pdf.set_title(f"{TITLE} {content['number']}")
    pdf.set_author(content["issuing_center_name"])
    pdf.set_creator("文明实践云 Wenming")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font(FAMILY, fname=font.path)
    pdf.add_page()

    pdf.set_font(FAMILY, size=22)
    pdf.cell(0, 14, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)
    pdf.cell(0, 7, f"证明编号：{content['number']}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font(FAMILY, size=12)
    activities = content["activities"]
    pdf.multi_cell(
        0,
        8,
        # no spaces: fpdf2 breaks lines at spaces first, which leaves Chinese text ragged
        f"兹证明{content['name']}（志愿者编号：{content['volunteer_number']}）于"
        f"{_chinese_date(content['period_start'])}至{_chinese_date(content['period_end'])}期间，"
        f"参加志愿服务{len(activities)}次，累计志愿服务时长{_hours(content['total_hours'])}小时。"
        "服务记录如下：",
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)

    pdf.set_font(FAMILY, size=10)
    with pdf.table(
        col_widths=[width for _, width in COLUMNS],
        text_align=("CENTER", "CENTER", "LEFT", "RIGHT"),
        headings_style=FontFace(fill_color=(235, 235, 235)),
        line_height=7,
    ) as table:
        table.row([heading for heading, _ in COLUMNS])
        for index, line in enumerate(activities, start=1):
            table.row([str(index), line["served_on"], line["activity_title"], _hours(line["hours"])])
        table.row(["", "合计", "", _hours(content["total_hours"])])

    pdf.ln(6)
    pdf.set_font(FAMILY, size=12)
    pdf.cell(0, 8, "特此证明。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 8, f"出具单位：{content['issuing_center_name']}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"出具日期：{_chinese_date(content['issued_on'])}", align="R", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(8)
    pdf.set_draw_color(160)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)
    pdf.set_font(FAMILY, size=9)
    pdf.multi_cell(
        0,
        5.5,
        f"核验：证明编号 {content['number']}    验证码 {code}\n"
        f"任何人均可凭证明编号和验证码核验本证明的真伪：{VERIFY_PATH.format(number=content['number'], code=code)}\n"
        f"本证明经平台数字签名（Ed25519，密钥 {content['key_id']}），签名文件 certificate.json 附于本 PDF，"
        "可用公开密钥（/api/v1/certificates/keys）离线核验内容未被改动。",
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.embed_file(
        bytes=canonical(document),
        basename="certificate.json",
        desc="志愿服务记录证明（含签名）",
        mime_type="application/json",
    )
    return bytes(pdf.output())
