"""The volunteers' rules, in plain Python (no nameko, SQL or I/O): phones, star levels,
volunteer numbers and team kinds. ID card numbers: `id_card.py`; encryption: `privacy.py`.
"""

import re
import unicodedata
from decimal import Decimal

from services.chassis.errors import InvalidInput

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
