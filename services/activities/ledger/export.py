"""A center subtree's ledgers as the sheet offices keep (活动台账), an .xlsx workbook with
Chinese headers: a title row, the header row, then one row per activity in order of start.
Written with openpyxl's write-only mode, which streams rows to the file instead of holding a
worksheet in memory.

Every text cell is written as text, so that a title or summary starting with "=" is shown,
never evaluated as a formula.
"""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.activities.contract.common import LOCAL_ZONE
from services.activities.contract.ledger import PLATFORM_LABELS
from services.activities.ledger.domain import ledger_state, safe_name

SHEET = "活动台账"
COLUMNS = (  # header, width in characters
    ("序号", 6),
    ("活动编号", 10),
    ("活动名称", 30),
    ("所属平台", 16),
    ("组织阵地", 24),
    ("服务队", 24),
    ("活动时间", 30),
    ("活动地点", 30),
    ("参与志愿者人数", 16),
    ("服务时长（小时）", 18),
    ("服务群众人数", 14),
    ("活动简介/台账摘要", 60),
    ("照片数", 8),
    ("资料数", 8),
    ("状态", 18),
)
HEADERS = tuple(header for header, _ in COLUMNS)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def filename(root_name, starts_from, starts_to):
    return f"活动台账_{safe_name(root_name)}_{starts_from.isoformat()}_{starts_to.isoformat()}.xlsx"


def title(root_name, starts_from, starts_to):
    return f"{root_name} 新时代文明实践活动台账（{starts_from.isoformat()} 至 {starts_to.isoformat()}）"


def workbook(heading, rows):
    """The .xlsx bytes: `heading` in the first row, the headers, then `rows` (sequences of
    cell values, in COLUMNS' order)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for number, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A3"  # the title and the headers stay in view
    sheet.append([_text(sheet, heading, _BOLD, wrap=False)])
    sheet.append([_text(sheet, header, _BOLD) for header in HEADERS])
    for row in rows:
        sheet.append([_text(sheet, value) if isinstance(value, str) else value for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger_row(number, found, centers, teams):
    """The sheet's row of one activity (`found`: a row of repository.export_rows); `centers`
    and `teams`: {id: name}."""
    activity, ledger = found["activity"], found["ledger"]
    center_id, team_id = activity["organizer_center_id"], activity["team_id"]
    return (
        number,
        activity["id"],
        activity["title"],
        PLATFORM_LABELS[activity["platform"]],
        centers.get(center_id, f"阵地 {center_id}"),
        None if team_id is None else teams.get(team_id, f"服务队 {team_id}"),
        when(activity["starts_at"], activity["ends_at"]),
        activity["place"],
        found["volunteers"],
        round(float(found["hours"]), 2),
        None if ledger is None else ledger["people_served"],
        None if ledger is None else ledger["summary"],
        found["photos"],
        found["materials"],
        ledger_state(activity["status"], ledger is not None),
    )


def when(starts_at, ends_at):
    """The activity's time in the county's zone: "2026-03-01 09:00 至 11:00", the end's day
    shown only when it is another."""
    starts, ends = starts_at.astimezone(LOCAL_ZONE), ends_at.astimezone(LOCAL_ZONE)
    end = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends:%Y-%m-%d %H:%M}"
    return f"{starts:%Y-%m-%d %H:%M} 至 {end}"


def _text(sheet, value, font=None, wrap=True):
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # text, even when it starts with "=": openpyxl would write a formula
    if wrap:
        cell.alignment = _WRAP
    if font is not None:
        cell.font = font
    return cell
