"""The schema language every contract shares: marshmallow schemas that refuse unknown
fields and speak Chinese to the user, a few field types, and `load`, which turns a
validation failure into the chassis' `InvalidInput` naming each bad field.

Services build their `contract` modules from these; the gateway validates HTTP input with
the same declarations (one definition, two uses).
"""

import functools
import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from .errors import InvalidInput, invalid_fields

# The ranges a number may take so that it fits its column on SQLite and PostgreSQL alike.
MAX_ID = 2**63 - 1  # PostgreSQL BIGINT, the widest id any service stores
MAX_INT = 2**31 - 1  # PostgreSQL INTEGER (sa.Integer): the default bound of every whole number
MAX_PAGE = 100_000  # a list's page number, from 1
MAX_PAGE_SIZE = 200  # items in one page of a list
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2099, 12, 31)  # a business date (opened on, born on)

# Characters no text input may hold anywhere (whatever its field): NUL, which PostgreSQL
# cannot store in text, and lone UTF-16 surrogates, which no UTF-8 encoder (database
# driver, AMQP serializer, JSON response) accepts. `load` refuses them before the schema runs.
_NUL = "\x00"
# What a one-line `Text` may not hold: C0 and C1 controls (newline, tab, escape, DEL…), the
# line and paragraph separators and the bidirectional overrides that disguise text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Chinese replacements for marshmallow's English messages, by field type (most specific first).
_TYPE_MESSAGES = (
    (fields.Integer, "必须是整数。"),
    (fields.Number, "必须是数字。"),
    (fields.DateTime, "必须是 ISO 8601 时间。"),
    (fields.Date, "必须是 YYYY-MM-DD 格式的日期。"),
    (fields.List, "必须是列表。"),
    (fields.Boolean, "必须是 true 或 false。"),
    (fields.String, "必须是字符串。"),
)
_COMMON_MESSAGES = {
    "required": "必填。",
    "null": "不能为空。",
    "validator_failed": "取值无效。",
    "type": "必须是对象。",
    "special": "必须是有限的数字。",
    "too_large": "数值过大。",
}


def _localize(field):
    field.error_messages.update(_COMMON_MESSAGES)
    for field_type, message in _TYPE_MESSAGES:
        if isinstance(field, field_type):
            field.error_messages["invalid"] = message
            break
    if isinstance(field, fields.List):
        _localize(field.inner)


class StrictSchema(Schema):
    """Refuses unknown fields and speaks Chinese to the user."""

    error_messages = {"unknown": "未知字段。", "type": "必须是对象。"}

    def on_bind_field(self, field_name, field_obj):
        _localize(field_obj)


class PartialSchema(StrictSchema):
    """An update: every field optional (apispec also reads `partial` for OpenAPI)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class Text(fields.String):
    """A string with surrounding whitespace removed, so that "  " is empty, and without
    control characters: one line unless `multiline=True` (which allows newlines and tabs)."""

    default_error_messages = {
        "control": "不能含控制字符（如换行、制表符、转义符）。",
        "control_multiline": "不能含控制字符（换行、制表符除外）。",
    }

    def __init__(self, *args, multiline=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if (_CONTROL_MULTILINE if self.multiline else _CONTROL).search(text):
            raise self.make_error("control_multiline" if self.multiline else "control")
        return text


class Flag(fields.Boolean):
    """JSON true or false, nothing else: marshmallow's Boolean also takes 1, "yes" or "on"
    (a query string's flag stays a Boolean: there every value is text)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Whole(fields.Nested):
    """A nested object that is always complete: an update replaces it as a whole, so the
    parent's partial loading must not reach inside it."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


def length(low, high):
    return validate.Length(low, high, error=f"长度必须在 {low} 到 {high} 之间。")


def between(low, high):
    """A number (or date) from `low` to `high`, both included; OpenAPI shows the range."""
    return validate.Range(low, high, error=f"必须在 {low} 到 {high} 之间。")


def at_least_zero(high=MAX_INT):
    """From 0 to `high` (by default the widest a plain Integer column holds everywhere)."""
    return between(0, high)


def one_of(choices):
    return validate.OneOf(choices, error="必须是 {choices} 之一。")


def described(text):
    """Field keyword arguments that document the field (OpenAPI reads the description)."""
    return {"metadata": {"description": text}}


def id_field(description, strict=True, **kwargs):
    """A positive id, at most MAX_ID (BIGINT); `strict=False` also accepts digits as text
    (query strings)."""
    return fields.Integer(
        strict=strict,
        validate=validate.Range(min=1, max=MAX_ID, error=f"必须是 1 到 {MAX_ID} 之间的整数。"),
        **described(description),
        **kwargs,
    )


def count_field(description, high, **kwargs):
    """A whole number from 0 to `high` (at most MAX_INT: a plain Integer column)."""
    if high > MAX_INT:
        raise ValueError(f"{high} does not fit an Integer column; declare a BigInteger range")
    return fields.Integer(strict=True, validate=at_least_zero(high), **described(description), **kwargs)


def measure_field(description, high, **kwargs):
    """A finite number from 0 to `high` (areas, lengths, amounts)."""
    return fields.Float(validate=at_least_zero(high), **described(description), **kwargs)


def date_field(description, earliest=EARLIEST_DATE, latest=LATEST_DATE, **kwargs):
    """A date, YYYY-MM-DD, from `earliest` to `latest`."""
    return fields.Date(validate=between(earliest, latest), **described(description), **kwargs)


def page_field():
    """A query's page number: from 1 to MAX_PAGE, 1 by default (digits as text accepted)."""
    return fields.Integer(load_default=1, validate=between(1, MAX_PAGE), **described(f"From 1 to {MAX_PAGE}."))


def page_size_field(default=20, high=MAX_PAGE_SIZE):
    """A query's page size: from 1 to `high`, `default` by default."""
    return fields.Integer(
        load_default=default, validate=between(1, high), **described(f"1 to {high}; {default} by default.")
    )


def page_of(item_schema, name):
    """The schema (class `name`, as OpenAPI shows it) of a page of a list: `items` of
    `item_schema`, with the `total` count and the `page` and `page_size` asked for."""
    fields_ = {
        "items": fields.List(fields.Nested(item_schema)),
        "total": fields.Integer(),
        "page": fields.Integer(),
        "page_size": fields.Integer(),
    }
    return type(name, (StrictSchema,), fields_)


def load(schema, data, code="input.invalid"):
    """`data` validated by `schema`, or InvalidInput naming each bad field.

    `schema` is a Schema instance, or a Schema class, which is built once and kept: making
    a marshmallow schema copies its every field, which cost more than a small command.
    `data` must be an object (None is refused like a list), and no string in it, key or
    value, may hold NUL or a lone surrogate, whatever field it is in."""
    unsafe = unsafe_text(data)
    if unsafe:
        raise invalid_fields(code, unsafe)
    if isinstance(schema, type):
        schema = _schema_instance(schema)
    try:
        return schema.load(data)
    except ValidationError as error:
        raise invalid_fields(code, error.normalized_messages()) from None


@functools.cache
def _schema_instance(schema_class):
    return schema_class()


def unsafe_text(data):
    """{dotted field: [message]} for every string in `data` (keys included) that holds NUL
    or a lone surrogate; walks nested lists and objects without recursion."""
    found = {}
    stack = [("", data)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                found[name or "_schema"] = [problem]
        elif isinstance(value, dict | list):
            for key, item in value.items() if isinstance(value, dict) else enumerate(value):
                key = str(key)
                problem = _text_problem(key)
                if problem:
                    found[_dotted(name, key.encode("unicode_escape").decode("ascii"))] = [problem]
                else:
                    stack.append((_dotted(name, key), item))
    return found


def _dotted(prefix, key):
    return f"{prefix}.{key}" if prefix else key


def _text_problem(text):
    if _NUL in text:
        return "不能含空字符（U+0000）。"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "含有无效的 Unicode 字符（孤立的代理项）。"
    return None


def load_page(schema, filters, page, page_size):
    """(filters, page, page_size) of a list's RPC arguments, validated by `schema` (its
    filters plus `page` and `page_size`), or InvalidInput naming each bad one."""
    query = load(schema, {**(filters or {}), "page": page, "page_size": page_size})
    return query, query.pop("page"), query.pop("page_size")


def load_id(value, field):
    """An id argument of an RPC method: a positive integer, or InvalidInput naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput("input.invalid", "输入有误", {field: ["必须是正整数。"]})
    return value
