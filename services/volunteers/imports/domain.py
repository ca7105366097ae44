"""The rules of an import, in plain Python: from a row's cells to the values of a registration
(RegistrationSchema's input), the row's home station among the run's centers, the outcome of
each row and the report. The registration rules themselves are the service's
(`services.volunteers.domain.registration`); this part adds what a file needs.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from services.chassis.errors import InvalidInput, PermissionDenied
from services.volunteers.contract.imports import (
    CATEGORY_LABELS,
    COLUMNS,
    LIST_SEPARATORS,
    OUTCOME_LABELS,
    REPORT_HEADER,
    TIME_LABELS,
)

MAX_ECHOED = 20  # characters of an unknown word quoted back in a message
SPLIT = re.compile("[" + re.escape(LIST_SEPARATORS) + "]")

# A field of a message, as the report names it: the column's header.
FIELD_LABELS = {
    **{name: headers[0] for name, headers in COLUMNS.items()},
    "guardian": "监护人",
    "guardian.name": COLUMNS["guardian_name"][0],
    "guardian.relation": COLUMNS["guardian_relation"][0],
    "guardian.phone": COLUMNS["guardian_phone"][0],
    "guardian.consented": "监护人同意",
    "privacy_consent": "隐私声明",
    "privacy_consent.version": "隐私声明版本",
}


def _fold(text):
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _lookup(labels):
    return {_fold(word): key for key, words in labels.items() for word in (key, *words)}


CATEGORY_OF = _lookup(CATEGORY_LABELS)
TIME_OF = _lookup(TIME_LABELS)


def split_list(text):
    """The items of a list cell ("书法、急救;摄影"), trimmed, without empty ones."""
    return [item.strip() for item in SPLIT.split(text or "") if item.strip()]


def _quoted(item, position):
    """An unknown word as a message quotes it: a word with digits (it may be an ID number or a
    phone typed into the wrong column) or control characters only by its position."""
    if not item.isprintable() or any(character.isdigit() for character in item):
        return f"第 {position} 项"
    return "“" + (item if len(item) <= MAX_ECHOED else item[:MAX_ECHOED] + "…") + "”"


def _keys(text, lookup, what, problems, field):
    keys = []
    for position, item in enumerate(split_list(text), start=1):
        key = lookup.get(_fold(item))
        if key is None:
            problems.setdefault(field, []).append(f"未知的{what}：{_quoted(item, position)}。")
        elif key not in keys:
            keys.append(key)
    return keys


# --- home stations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StationRef:
    """What a row says of its home station: an id, a code, or nothing (the run's center)."""

    id: int | None = None
    code: str | None = None


def station_ref(cells):
    """The StationRef of a row's cells; InvalidInput when the id is not a positive integer."""
    text = cells.get("home_station_id", "")
    code = cells.get("home_station_code", "") or None
    if not text:
        return StationRef(code=code)
    digits = unicodedata.normalize("NFKC", text)
    if not digits.isdigit() or int(digits) < 1:
        message = "阵地ID须为正整数。"
        raise InvalidInput("import.station_id_invalid", message, {"home_station_id": [message]})
    return StationRef(id=int(digits), code=code)


class Stations:
    """The centers a run may put volunteers in: the subtree of the run's center (as the centers
    service's get_subtree gives it), found by id or code without asking again per row."""

    def __init__(self, run_center_id, subtree):
        self.run_center_id = run_center_id
        self.by_id = {center["id"]: center for center in subtree}
        self.by_code = {center["code"]: center for center in subtree}

    def home_of(self, ref):
        """The id of the home station `ref` names (the run's center when it names none); an
        error for one outside the subtree, unknown, inactive, or named twice differently."""
        if ref.id is not None:
            center = self.by_id.get(ref.id)
            if center is None:
                raise outside_run(ref)
            if ref.code is not None and center["code"] != ref.code:
                message = "阵地ID与阵地编码不是同一个阵地。"
                raise InvalidInput("import.station_mismatch", message, {"home_station_code": [message]})
        elif ref.code is not None:
            center = self.by_code.get(ref.code)
            if center is None:
                raise outside_run(ref)
        else:
            center = self.by_id[self.run_center_id]
        if center["status"] != "active":
            field = "home_station_code" if ref.id is None and ref.code else "home_station_id"
            raise InvalidInput("center.inactive", "阵地未启用。", {field: ["阵地已暂停或关闭。"]})
        return center["id"]


def outside_run(ref):
    """A station not in the run's subtree: unknown or someone else's, which is not told apart
    (that would tell an admin which centers exist outside their scope)."""
    field = "home_station_id" if ref.id is not None else "home_station_code"
    message = "阵地不存在，或不在本次导入所属阵地的范围内。"
    return PermissionDenied("scope.outside", message, {field: [message]})


# --- a row's registration ----------------------------------------------------------------------


def registration_values(row, home_station_id, consent):
    """The input of RegistrationSchema for a SheetRow: list cells split and their Chinese
    words turned into keys, the guardian (when any of its cells is filled) consenting as the
    staff attested, `consent` ({"version", "accepted_at"}) the run's. InvalidInput naming
    every field at fault: an unknown category or time, an ID number or phone that Excel
    stored as a number and so cut short."""
    cells = row.cells
    problems = {}
    for name in sorted(row.lost_digits & {"id_number", "phone", "guardian_phone"}):
        problems[name] = ["该单元格被 Excel 存成了数字，超过15位的数字已丢失，请将该列设为“文本”后重新填写。"]
    values = {
        "name": cells["name"],
        "id_number": cells["id_number"],
        "phone": cells["phone"],
        "skills": split_list(cells.get("skills")),
        "service_categories": _keys(
            cells.get("service_categories"), CATEGORY_OF, "服务类别", problems, "service_categories"
        ),
        "available_times": _keys(cells.get("available_times"), TIME_OF, "可服务时间", problems, "available_times"),
        "home_station_id": home_station_id,
        "privacy_consent": consent,
        "guardian": None,
    }
    guardian = {key: cells.get(f"guardian_{key}", "") for key in ("name", "relation", "phone")}
    if any(guardian.values()):
        values["guardian"] = {**guardian, "consented": True}
    if problems:
        code = "import.cell_invalid" if len(problems) > 1 else _cell_code(next(iter(problems)), row)
        raise InvalidInput(code, "该行有单元格无法识别。", problems)
    return values


def _cell_code(field, row):
    return "import.excel_number" if field in row.lost_digits else f"import.unknown_{field}"


# --- outcomes and the report -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one row."""

    row_number: int
    outcome: str  # imported, duplicate or refused
    volunteer_id: int | None = None
    volunteer_number: str | None = None
    code: str | None = None
    errors: dict | None = None  # {field: [messages]}


def refused(row_number, error):
    """The Outcome of a row refused with a chassis error: its code, and messages per field
    (the error's own message when it names no field)."""
    return Outcome(row_number, "refused", code=error.code, errors=error.fields or {"_row": [error.message]})


def imported(row_number, volunteer_id, volunteer_number):
    return Outcome(row_number, "imported", volunteer_id, volunteer_number)


def duplicate(row_number, code, message, volunteer_number=None):
    errors = {"id_number": [message]}
    return Outcome(row_number, "duplicate", volunteer_number=volunteer_number, code=code, errors=errors)


def already_registered(row_number, volunteer_number):
    """A row whose ID number is registered: `volunteer_number` when the volunteer lies in the
    run's subtree, else None (the importer may not see them)."""
    return duplicate(row_number, "volunteer.id_number_registered", "证件号码已注册，未重复导入。", volunteer_number)


def repeated_in_file(row_number, first_row_number):
    message = f"与第 {first_row_number} 行的证件号码相同，已按第 {first_row_number} 行导入。"
    return duplicate(row_number, "import.id_number_repeated", message)


def counts(outcomes):
    """How many rows ended each way, as the run's counters name them."""
    tally = {"imported": 0, "skipped_duplicates": 0, "refused": 0}
    key = {"imported": "imported", "duplicate": "skipped_duplicates", "refused": "refused"}
    for outcome in outcomes:
        tally[key[outcome.outcome]] += 1
    return tally


def reason(errors):
    """The messages of a row as one line of the report: "手机号：…；身份证号：…"."""
    parts = []
    for field, messages in (errors or {}).items():
        label = FIELD_LABELS.get(field) or FIELD_LABELS.get(field.split(".")[0])
        text = "".join(messages)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A report cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def report_csv(rows):
    """The report of `rows` (objects with row_number, outcome, volunteer_number, errors) as
    CSV text with the Chinese header (REPORT_HEADER)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # what Excel writes and expects
    writer.writerow(REPORT_HEADER)
    for row in rows:
        writer.writerow(
            [_cell(row.row_number), OUTCOME_LABELS[row.outcome], _cell(row.volunteer_number), _cell(reason(row.errors))]
        )
    return buffer.getvalue()


def report_file_name(file_name):
    """The report's name after the uploaded file's: 名单.xlsx → 名单-导入结果.csv."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    return f"{stem}-导入结果.csv"


# --- runs --------------------------------------------------------------------------------------

MAX_BATCH_FAILURES = 3  # a batch that fails this many times in a row fails its run
