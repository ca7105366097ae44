"""Reading an uploaded file into rows of named cells, in plain Python (csv, gzip, openpyxl).

`file_bytes` undoes base64 and gzip; `kind_of` tells CSV from xlsx; `read_sheet` finds the
header row, maps its columns to fields (contract.imports.COLUMNS) and yields the data rows
lazily, so that a caller can read a large file a piece at a time. Every refusal is an
InvalidInput naming `content` with a stable code, raised before anything is stored.

A run keeps its rows as `packed_rows` wrote them at the upload (gzip of JSON lines), not the
file: reading them again is then as cheap for an xlsx as for a CSV.
"""

import base64
import binascii
import csv
import gzip
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from services.chassis.errors import InvalidInput
from services.volunteers.contract.imports import COLUMNS, MAX_FILE_BYTES, MAX_ROWS, REQUIRED_COLUMNS

HEADER_SEARCH_ROWS = 10  # a title row or two may stand above the header
MAX_COLUMNS = 60  # columns read per row; a sheet wider than this has nothing more for us
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # an .xlsx's parts, unpacked (a zip bomb stops here)
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number: an ID number typed as one is lost
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def invalid_file(code, message):
    return InvalidInput(code, message, {"content": [message]})


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row's number as a spreadsheet shows it (the header row is 1 when it is first)
    cells: dict  # field -> text, "" when empty
    lost_digits: frozenset = frozenset()  # fields whose cell was a number too long for Excel


@dataclass
class Sheet:
    columns: list  # the field of each column, or None for a column the import does not read
    ignored: list  # headers of the columns the import does not read
    rows: object = field(repr=False)  # iterator of SheetRow, blank rows left out, at most MAX_ROWS

    @property
    def fields(self):
        """The fields the sheet has a column for, in the sheet's order."""
        return [name for name in self.columns if name]


def file_bytes(content, compression=None):
    """The uploaded file from its base64 `content`, gunzipped when `compression` is gzip."""
    try:
        data = base64.b64decode(re.sub(r"\s", "", content), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_file("import.content_invalid", "文件内容须为 base64 编码。") from None
    if compression == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, gzip.BadGzipFile):
            raise invalid_file("import.content_invalid", "文件内容不是有效的 gzip 压缩数据。") from None
    if len(data) > MAX_FILE_BYTES:
        raise invalid_file("import.file_too_large", f"文件不能超过 {MAX_FILE_BYTES // (1024 * 1024)} MiB。")
    if not data.strip():
        raise invalid_file("import.file_empty", "文件是空的。")
    return data


def kind_of(data, declared=None):
    """csv or xlsx, from the content (an .xlsx is a zip archive); refuses the binary .xls and a
    declared kind the content contradicts."""
    if data.startswith(OLE_MAGIC):
        raise invalid_file("import.xls_unsupported", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后上传。")
    found = "xlsx" if data.startswith(ZIP_MAGIC) else "csv"
    if declared is not None and declared != found:
        raise invalid_file("import.kind_mismatch", f"文件内容是 {found} 格式，与声明的 {declared} 不符。")
    return found


def read_sheet(data, kind):
    """The Sheet of a CSV or xlsx file: header found and checked now, rows read as iterated."""
    records = _xlsx_records(data) if kind == "xlsx" else _csv_records(data)
    return _sheet(records)


# --- headers ---------------------------------------------------------------------------------

_HINT = re.compile(r"[(（\[【].*?[)）\]】]")


def header_key(text):
    """A header as it is matched: NFKC, no spaces, `*` marks or bracketed hints, English folded."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = _HINT.sub("", re.sub(r"[\s*]", "", text))
    return re.sub(r"[_-]", "", text.casefold())


FIELD_OF_HEADER = {header_key(header): name for name, headers in COLUMNS.items() for header in headers}


def _sheet(records):
    for _ in range(HEADER_SEARCH_ROWS):
        found = next(records, None)
        if found is None:
            break
        number, cells = found
        columns = [FIELD_OF_HEADER.get(header_key(cell)) for cell in cells]
        named = [name for name in columns if name]
        if len(named) >= 2:  # a title row names at most one field by chance
            _check_columns(named)
            ignored = [_printable(cell) for cell, name in zip(cells, columns, strict=True) if not name and _text(cell)]
            return Sheet(columns, ignored, _data_rows(records, columns))
    required = "、".join(COLUMNS[name][0] for name in REQUIRED_COLUMNS)
    message = f"未找到表头行：前 {HEADER_SEARCH_ROWS} 行中须有表头（至少含 {required}）。"
    raise invalid_file("import.header_missing", message)


def _check_columns(named):
    repeated = sorted({name for name in named if named.count(name) > 1}, key=list(COLUMNS).index)
    if repeated:
        labels = "、".join(COLUMNS[name][0] for name in repeated)
        raise invalid_file("import.column_repeated", f"表头中以下列出现了不止一次：{labels}。")
    missing = [name for name in REQUIRED_COLUMNS if name not in named]
    if missing:
        labels = "、".join(COLUMNS[name][0] for name in missing)
        raise invalid_file("import.columns_missing", f"缺少必需的列：{labels}。")


def _data_rows(records, columns):
    count = 0
    for number, cells in records:
        values, lost_digits = {}, set()
        for name, cell in zip(columns, cells, strict=False):
            if name is None:
                continue
            if _too_long_for_excel(cell):
                lost_digits.add(name)
            values[name] = _text(cell)
        if not any(values.values()) and not lost_digits:
            continue  # a blank row: not data, not counted
        count += 1
        if count > MAX_ROWS:
            raise invalid_file("import.too_many_rows", f"一个文件最多 {MAX_ROWS} 行数据，请拆分后分别导入。")
        for name in columns:
            if name is not None:
                values.setdefault(name, "")
        yield SheetRow(number, values, frozenset(lost_digits))


def _text(cell):
    """A cell as text: numbers Excel stored as such written without a decimal point when whole."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _printable(cell):
    """A header as the run lists it: its printable characters only."""
    return "".join(character for character in _text(cell) if character.isprintable())


def _too_long_for_excel(cell):
    return isinstance(cell, int | float) and not isinstance(cell, bool) and abs(cell) >= 10**EXCEL_DIGITS


# --- CSV -------------------------------------------------------------------------------------


def decode_csv(data):
    """The text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which
    covers GBK and GB2312: what Excel on Chinese Windows saves)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise invalid_file("import.encoding", "无法识别文件编码：CSV 须为 UTF-8 或 GBK（GB18030）编码。")


def _csv_records(data):
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","  # Excel's "Unicode text" uses tabs
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells[:MAX_COLUMNS]
    except csv.Error as error:
        raise invalid_file("import.csv_malformed", f"CSV 第 {number + 1} 行无法解析（{error}）。") from None


# --- xlsx ------------------------------------------------------------------------------------


def _xlsx_records(data):
    from openpyxl import load_workbook  # imported when an xlsx comes: it is slow to import

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise invalid_file("import.xlsx_unreadable", "无法读取该 .xlsx 文件：文件已损坏或不是 Excel 工作簿。") from None
    if unzipped > MAX_UNZIPPED_BYTES:
        raise invalid_file("import.file_too_large", "该 .xlsx 文件解压后过大。")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises whatever its parts raise on a damaged file
        raise invalid_file("import.xlsx_unreadable", "无法读取该 .xlsx 文件：文件已损坏或不是 Excel 工作簿。") from None
    try:
        if not workbook.worksheets:
            raise invalid_file("import.xlsx_unreadable", "该 .xlsx 文件中没有工作表。")
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        number = 0
        while True:
            try:
                cells = next(rows, None)
            except Exception:  # a damaged sheet part shows only when it is read
                raise invalid_file("import.xlsx_unreadable", f"无法读取该 .xlsx 文件的第 {number + 1} 行。") from None
            if cells is None:
                return
            number += 1
            yield number, list(cells)
    finally:
        workbook.close()


# --- the rows as a run keeps them --------------------------------------------------------------


def packed_rows(rows, fields):
    """(the SheetRows of `rows` as gzip of JSON lines, the fields first; how many there were)."""
    buffer = io.BytesIO()
    count = 0
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as packed:
        packed.write(json.dumps(fields).encode() + b"\n")
        for row in rows:
            line = [row.number, sorted(row.lost_digits), *(row.cells[name] for name in fields)]
            packed.write(json.dumps(line).encode() + b"\n")  # ASCII: any text, even a lone surrogate, survives
            count += 1
    return buffer.getvalue(), count


def unpacked_rows(data):
    """The SheetRows `packed_rows` packed, read as iterated."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as packed:
        lines = iter(packed)
        fields = json.loads(next(lines))
        for line in lines:
            number, lost_digits, *cells = json.loads(line)
            yield SheetRow(number, dict(zip(fields, cells, strict=True)), frozenset(lost_digits))
