"""The volunteers' rules, in plain Python (no nameko, SQL or I/O): registration, phones,
star levels, volunteer numbers, status changes and team kinds. ID card numbers:
`id_card.py`; encryption: `privacy.py`; who may act on whom: `access.py`.
"""

import re
import unicodedata
from decimal import Decimal

from services.chassis.errors import Conflict, InvalidInput
from services.volunteers.contract.registration import PRIVATE_FIELDS
from services.volunteers.id_card import is_minor, parse_id_number

# Team kinds (志愿服务队类型): stable keys, Chinese labels; "local" covers a county's own kinds.
TEAM_KINDS = {
    "lecture": "宣讲",
    "arts": "文艺",
    "teaching": "支教",
    "health": "医疗健身",
    "science": "科普",
    "legal": "法律",
    "environment": "卫生环保",
    "civilized_tourism": "文明旅游",
    "local": "其他",
}

# Star levels (星级) by total service hours: reaching a threshold gives the star.
STAR_THRESHOLDS = (Decimal(100), Decimal(300), Decimal(600), Decimal(1000), Decimal(1500))

MOBILE = re.compile(r"1[3-9][0-9]{9}")
COUNTY_CODE = re.compile(r"[A-Z]{2,8}")
MAX_SERIAL = 999_999


def invalid_phone(message, field="phone"):
    return InvalidInput("phone.format", message, {field: [message]})


def normalize_phone(text):
    """The 11 digits of a mainland mobile number written in `text`, or InvalidInput (code phone.format).

    Accepts full-width characters, spaces and dashes ("138 0013-8000") and a +86 or 86 prefix.
    """
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text or ""))
    if len(digits) == 14 and digits.startswith("+86"):
        digits = digits[3:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not MOBILE.fullmatch(digits):
        raise invalid_phone("手机号码应为11位中国大陆手机号，以13至19开头")
    return digits


def star_level(hours):
    """0 to 5: the stars of a volunteer with `hours` total service hours (int, float or Decimal)."""
    hours = Decimal(hours) if isinstance(hours, int | float) else hours
    if not isinstance(hours, Decimal) or not hours.is_finite() or hours < 0:
        raise ValueError(f"hours must be a finite number >= 0, not {hours!r}")
    return sum(hours >= threshold for threshold in STAR_THRESHOLDS)


def new_star_level(before_hours, after_hours):
    """The star level reached when hours go from `before_hours` to `after_hours`, or None when
    it did not rise (to announce a new star once, on the change that earns it)."""
    after = star_level(after_hours)
    return after if after > star_level(before_hours) else None


def volunteer_number(county_code, year, serial):
    """The public volunteer number (志愿者编号) that replaces the ID number in public use.

    Format "<COUNTY>-<YYYY>-<NNNNNN>", e.g. "JZXY-2026-000123": the county's code in 2-8
    upper-case letters (JZXY: 晋中 昔阳), the year of registration, and the registration's
    serial within that county and year, 1 to 999999, zero-padded to six digits.
    """
    if not isinstance(county_code, str) or not COUNTY_CODE.fullmatch(county_code):
        raise ValueError(f"county_code must be 2-8 upper-case letters A-Z, not {county_code!r}")
    if type(year) is not int or not 2000 <= year <= 9999:
        raise ValueError(f"year must be an int from 2000 to 9999, not {year!r}")
    if type(serial) is not int or not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be an int from 1 to {MAX_SERIAL}, not {serial!r}")
    return f"{county_code}-{year}-{serial:06d}"


# --- registration ----------------------------------------------------------------------------


def mask(text, keep_start, keep_end):
    """`text` with all but its first and last characters starred (1407**********123X)."""
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


def mask_id_number(number):
    return mask(number, 4, 4)


def mask_phone(phone):
    return mask(phone, 3, 4)


def in_order(values, vocabulary):
    """`values` without duplicates, in the vocabulary's order (stable events and views)."""
    return sorted(set(values), key=vocabulary.index)


def unique_skills(skills):
    return list(dict.fromkeys(skills))


def registration(values, today, vocabularies):
    """The normalized registration of `values` (as RegistrationSchema loaded them) on `today`:
    the ID number parsed (birth date and sex derived), the phone normalized, a minor's
    guardian required and consenting. InvalidInput names the field at fault.

    `vocabularies`: {"service_categories": PLATFORMS, "available_times": AVAILABLE_TIMES}.
    Returns the volunteer's state without number, id, status or times.
    """
    id_number = parse_id_number(values["id_number"], today)
    phone = normalize_phone(values["phone"])
    guardian = values.get("guardian")
    if is_minor(id_number.birth_date, today):
        if guardian is None:
            message = "未满18周岁的志愿者须经监护人同意，请填写监护人信息。"
            raise InvalidInput("volunteer.guardian_required", message, {"guardian": [message]})
        if not guardian["consented"]:
            message = "监护人须同意注册。"
            raise InvalidInput("volunteer.guardian_consent", message, {"guardian.consented": [message]})
        guardian = {**guardian, "phone": normalize_phone_of(guardian["phone"], "guardian.phone")}
    else:
        guardian = None  # an adult needs none; what was sent is not kept
    return {
        "name": values["name"],
        "id_number": id_number.number,
        "birth_date": id_number.birth_date,
        "sex": id_number.sex,
        "phone": phone,
        "guardian": guardian,
        "skills": unique_skills(values.get("skills", [])),
        **{name: in_order(values.get(name, []), vocabulary) for name, vocabulary in vocabularies.items()},
        "home_station_id": values["home_station_id"],
    }


def normalize_phone_of(text, field):
    try:
        return normalize_phone(text)
    except InvalidInput as error:
        raise invalid_phone(error.message, field) from None


def already_registered():
    message = "证件号码已注册。"
    return Conflict("volunteer.id_number_registered", message, {"id_number": [message]})


# --- status ----------------------------------------------------------------------------------


def status_change(current, wanted, reason):
    """The status change from `current` to `wanted`: None when nothing changes; InvalidInput
    without a reason for leaving active; Conflict once deregistered (the data is gone)."""
    if current == "deregistered":
        raise Conflict("volunteer.deregistered", "该志愿者已注销。")
    if wanted == current:
        return None
    if wanted != "active" and not reason:
        message = "暂停或注销须说明原因。"
        raise InvalidInput("volunteer.reason_required", message, {"reason": [message]})
    return {"status": wanted, "status_reason": reason if wanted != "active" else None}


# What deregistration erases: all personal data; the number and the hours stay, anonymous.
ERASED = {
    "name": None,
    "account_id": None,
    "id_number_token": None,
    "id_number_hash": None,
    "id_number_masked": None,
    "phone_token": None,
    "phone_hash": None,
    "phone_masked": None,
    "sex": None,
    "birth_date": None,
    "guardian": None,
    "skills": [],
    "available_times": [],
}


def require_not_erased(erased_at):
    if erased_at is not None:
        raise Conflict("volunteer.erased", "该志愿者已注销，个人信息已删除。")


def profile_changes(changes, vocabularies):
    """The stored fields a profile update sets: the phone normalized, lists deduplicated."""
    new = dict(changes)
    if "phone" in new:
        new["phone"] = normalize_phone(new["phone"])
    if "skills" in new:
        new["skills"] = unique_skills(new["skills"])
    for name, vocabulary in vocabularies.items():
        if name in new:
            new[name] = in_order(new[name], vocabulary)
    return new


def require_active(status):
    if status != "active":
        raise Conflict("volunteer.not_active", "该志愿者当前不是正常状态。")


def revealable(fields):
    """The private fields asked for, in a stable order."""
    return [name for name in PRIVATE_FIELDS if name in fields]
