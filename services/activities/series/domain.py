"""The rules of a recurring series, in plain Python: no clock (the service passes `now`), no
database. A series is the plain dict of its stored fields.

The recurrence rule is a subset of RFC 5545's RRULE, read with python-dateutil: FREQ WEEKLY
or MONTHLY, with INTERVAL, BYDAY, BYMONTHDAY, BYSETPOS, COUNT or UNTIL. It runs on the
county's wall clock (Asia/Shanghai, naive): the starts it yields are local times, stored in
UTC, so that a class at 09:00 stays at 09:00 whatever the offset. Each start becomes an
activity by the catalog's rules, from the series' template.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice

from dateutil.rrule import rrulestr

from services.activities.catalog import domain as catalog
from services.activities.contract import series as contract
from services.activities.contract.common import LOCAL_ZONE
from services.chassis.errors import Conflict, InvalidInput, NotFound
from services.chassis.schemas import load

_template = contract.SeriesTemplateSchema()
_WEEKDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_NUMBER = re.compile(r"[+-]?[0-9]{1,3}")
_MONTH_DAYS, _WEEK_DAYS, _WEEKS_IN_MONTH = 31, 7, 5
# UNTIL as RFC 5545 writes it: a day (included whole), a UTC time, or a local time
_UNTIL_FORMATS = (("%Y%m%d", "day"), ("%Y%m%dT%H%M%SZ", "utc"), ("%Y%m%dT%H%M%S", "local"))


# --- the rule -------------------------------------------------------------------------------


def rule_error(code, message):
    return InvalidInput(code, message, {"rrule": [message]})


def parse_rule(text, first_starts_at):
    """The dateutil rule of `text` from `first_starts_at` (DTSTART), on the wall clock, or
    InvalidInput naming `rrule`: `series.rrule_unsupported` (another frequency or rule
    part), `series.rrule_invalid` (malformed or contradictory), `series.too_many_occurrences`
    (more than MAX_OCCURRENCES)."""
    parts = _parts(text)
    _check(parts)
    until = parts.pop("UNTIL", None)
    rule = rrulestr(_joined(parts), dtstart=wall_clock(first_starts_at))  # parts checked: dateutil accepts them
    if until is None:
        return rule
    rule = rule.replace(until=_until(until))
    if len(list(islice(rule, contract.MAX_OCCURRENCES + 1))) > contract.MAX_OCCURRENCES:
        raise _too_many()
    return rule


def normalized_rule(text):
    """The rule as stored: its parts in upper case, without the `RRULE:` prefix."""
    return _joined(_parts(text))


def _parts(text):
    body = text.strip().upper().removeprefix("RRULE:")
    parts = {}
    for pair in body.split(";"):
        name, equals, value = (piece.strip() for piece in pair.partition("="))
        if not (name and equals and value):
            raise rule_error("series.rrule_invalid", "重复规则须为 NAME=VALUE 以分号分隔，例如 FREQ=WEEKLY;BYDAY=SA。")
        if name in parts:
            raise rule_error("series.rrule_invalid", f"重复规则项 {name} 出现了两次。")
        parts[name] = value
    return parts


def _joined(parts):
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _check(parts):
    unknown = sorted(set(parts) - set(contract.RULE_PARTS))
    if unknown:
        supported = "、".join(contract.RULE_PARTS)
        raise rule_error(
            "series.rrule_unsupported", f"不支持的重复规则项：{'、'.join(unknown)}（只支持 {supported}）。"
        )
    if parts.get("FREQ") not in contract.FREQUENCIES:
        raise rule_error("series.rrule_unsupported", "重复频率（FREQ）只能是每周（WEEKLY）或每月（MONTHLY）。")
    weekly = parts["FREQ"] == "WEEKLY"
    if "COUNT" in parts and "UNTIL" in parts:
        raise rule_error("series.rrule_invalid", "COUNT 与 UNTIL 不能同时使用。")
    if "INTERVAL" in parts:
        _whole(parts, "INTERVAL", contract.MAX_INTERVAL)
    if "COUNT" in parts and _whole(parts, "COUNT") > contract.MAX_OCCURRENCES:
        raise _too_many()
    for day in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
        _weekday(day, weekly)
    if "BYMONTHDAY" in parts:
        if weekly:
            raise rule_error("series.rrule_invalid", "每周重复不能使用 BYMONTHDAY。")
        _signed(parts, "BYMONTHDAY", _MONTH_DAYS)
    if "BYSETPOS" in parts:
        if "BYDAY" not in parts and "BYMONTHDAY" not in parts:
            raise rule_error("series.rrule_invalid", "BYSETPOS 须与 BYDAY 或 BYMONTHDAY 一起使用。")
        _signed(parts, "BYSETPOS", _WEEK_DAYS if weekly else _MONTH_DAYS)


def _whole(parts, name, high=None):
    """Part `name`: one whole number from 1 (to `high`)."""
    value = parts[name]
    if not value.isascii() or not value.isdigit() or int(value) < 1 or (high is not None and int(value) > high):
        raise rule_error(
            "series.rrule_invalid", f"{name} 须为 1 到 {high} 的整数。" if high else f"{name} 须为正整数。"
        )
    return int(value)


def _signed(parts, name, bound):
    """Part `name`: whole numbers from -`bound` to `bound` but 0, separated by commas."""
    values = parts[name].split(",")
    if not all(_NUMBER.fullmatch(value) and 0 < abs(int(value)) <= bound for value in values):
        raise rule_error("series.rrule_invalid", f"{name} 须为 ±1 到 ±{bound} 的整数，以逗号分隔。")


def _weekday(text, weekly):
    match = _WEEKDAY.fullmatch(text)
    if match is None:
        raise rule_error(
            "series.rrule_invalid", f"BYDAY 中的 {text or '（空）'} 不是星期（MO、TU、WE、TH、FR、SA、SU）。"
        )
    if match.group(1) is None:
        return
    if weekly:
        raise rule_error("series.rrule_invalid", "每周重复的 BYDAY 不能带序号（如 -1SA），序号只用于每月重复。")
    ordinal = int(match.group(1))
    if ordinal == 0 or abs(ordinal) > _WEEKS_IN_MONTH:
        raise rule_error("series.rrule_invalid", f"BYDAY 的序号须为 ±1 到 ±{_WEEKS_IN_MONTH}。")


def _until(text):
    for pattern, kind in _UNTIL_FORMATS:
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if kind == "day":
            return datetime.combine(moment.date(), time.max)
        return wall_clock(moment.replace(tzinfo=UTC)) if kind == "utc" else moment
    raise rule_error("series.rrule_invalid", "UNTIL 须为 YYYYMMDD、YYYYMMDDTHHMMSSZ 或 YYYYMMDDTHHMMSS。")


def _too_many():
    return rule_error("series.too_many_occurrences", f"一个系列最多 {contract.MAX_OCCURRENCES} 次活动。")


# --- the wall clock -----------------------------------------------------------------------


def wall_clock(moment):
    """A moment as the county's clocks show it (naive)."""
    return moment.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def day_start(day):
    """The moment (UTC) a day of the county's calendar begins."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_ZONE).astimezone(UTC)


def generation_end(now, until=None):
    """Where generating stops (exclusive): the end of day `until`, at most GENERATE_AHEAD_DAYS
    ahead of today (by default that far)."""
    last = wall_clock(now).date() + timedelta(days=contract.GENERATE_AHEAD_DAYS)
    if until is not None and until > last:
        message = f"最多生成到 {contract.GENERATE_AHEAD_DAYS} 天之后（{last.isoformat()}）。"
        raise InvalidInput("series.too_far_ahead", message, {"until": [message]})
    return day_start((until or last) + timedelta(days=1))


def cancelled_from(day, now):
    """The day ending a series cancels from (today by default)."""
    return day or wall_clock(now).date()


# --- occurrences ----------------------------------------------------------------------------


def starts(series, through):
    """The starts (UTC) of the series' occurrences before `through`: the first
    MAX_OCCURRENCES the rule yields, less the exception dates."""
    rule = parse_rule(series["rrule"], series["first_starts_at"])
    skipped = {date.fromisoformat(day) for day in series["exdates"]}
    end = wall_clock(through)
    found = []
    for wall in islice(rule, contract.MAX_OCCURRENCES):
        if wall >= end:
            break
        if wall.date() not in skipped:
            found.append(wall.replace(tzinfo=LOCAL_ZONE).astimezone(UTC))
    return found


def due_starts(series, existing, through, now):
    """The starts to generate: ahead of now, before `through`, and not generated yet
    (`existing`: the `occurrence_start`s of the series' activities, whatever became of them)."""
    return [start for start in starts(series, through) if start > now and start not in existing]


def occurrence(series, start, created_by, now):
    """The stored fields of the occurrence starting at `start`: a new draft from the
    template, by the catalog's rules."""
    values = {
        **template_values(series["template"]),
        "organizer_center_id": series["organizer_center_id"],
        "starts_at": start,
        "ends_at": start + timedelta(minutes=series["duration_minutes"]),
    }
    return {**catalog.new_activity(values, created_by, now), "series_id": series["id"], "occurrence_start": start}


def template_of(values):
    """The stored template (JSON) of validated template fields."""
    return _template.dump(values)


def template_values(template):
    return load(_template, template)


# --- the series' life -----------------------------------------------------------------------


def new_series(values, created_by, now, through):
    """The stored fields of a new series (without id) from SeriesCreateSchema's `values`;
    refused when its rule yields nothing to generate before `through`."""
    first = values["first_starts_at"]
    if not now < first <= now + timedelta(days=contract.GENERATE_AHEAD_DAYS):
        message = f"首次开始时间须在当前时间之后、{contract.GENERATE_AHEAD_DAYS} 天之内。"
        raise InvalidInput("series.invalid", message, {"first_starts_at": [message]})
    template = template_of(values)
    series = {
        "organizer_center_id": values["organizer_center_id"],
        "team_id": template["team_id"],
        "title": template["title"],
        "template": template,
        "rrule": normalized_rule(values["rrule"]),
        "first_starts_at": first,
        "duration_minutes": values["duration_minutes"],
        "exdates": sorted({day.isoformat() for day in values["exdates"]}),
        "publish": values["publish"],
        "generated_until": through,
        "status": "active",
        "status_reason": None,
        "created_by": created_by,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    if not due_starts(series, set(), through, now):
        raise rule_error("series.no_occurrences", "按此重复规则，一年之内没有可生成的活动。")
    occurrence({**series, "id": None}, first, created_by, now)  # the template makes a valid activity
    return series


def not_found(series_id):
    return NotFound("series.not_found", f"系列 {series_id} 不存在。")


def require_active(series):
    if series["status"] != "active":
        raise Conflict("series.ended", "系列已结束，不能再修改或生成活动。")


def require_occurrence(series, activity):
    if activity["series_id"] != series["id"]:
        raise NotFound("series.occurrence_not_found", f"活动 {activity['id']} 不是系列 {series['id']} 的活动。")


def extended(series, through):
    """The change of a series generated up to `through`, or None."""
    if series["generated_until"] is not None and series["generated_until"] >= through:
        return None
    return {"generated_until": through}


def change_from(series, activity, requested, created_by, now):
    """The series' fields that "this occurrence (`activity`) and the following" with the
    `requested` changes (SeriesChangeSchema) changes, or None: the template the following
    occurrences are generated from and the duration. The changed template must still make
    a valid activity."""
    require_active(series)
    require_occurrence(series, activity)
    template = template_of({**template_values(series["template"]), **requested})
    changed = {}
    if template != series["template"]:
        changed.update(template=template, title=template["title"], team_id=template["team_id"])
    duration = requested.get("duration_minutes", series["duration_minutes"])
    if duration != series["duration_minutes"]:
        changed["duration_minutes"] = duration
    if not changed:
        return None
    occurrence({**series, **changed}, activity["occurrence_start"], created_by, now)
    return changed


def changed_names(series, changed):
    """What a change of a series changed, as the contract names it: template fields and the
    duration."""
    names = {key for key in changed.get("template", {}) if changed["template"][key] != series["template"].get(key)}
    return sorted(names | ({"duration_minutes"} & set(changed)))


def occurrence_changes(requested, starts_at):
    """`requested` (SeriesChangeSchema) as a change of one occurrence starting at
    `starts_at` (ActivityUpdateSchema): the duration moves its end."""
    changes = {key: value for key, value in requested.items() if key != "duration_minutes"}
    if "duration_minutes" in requested:
        changes["ends_at"] = starts_at + timedelta(minutes=requested["duration_minutes"])
    return changes


def end(series, reason):
    require_active(series)
    return {"status": "ended", "status_reason": reason}
