"""The mainland resident identity card number (公民身份号码, GB 11643-1999), in plain Python.

Eighteen characters: a six-digit region code (where the number was first issued), the birth
date as YYYYMMDD, a three-digit sequence whose last digit is odd for men and even for women,
and a check character (ISO 7064 MOD 11-2: 0-9 or X). The residence permits of Hong Kong,
Macao and Taiwan residents (region 81/82/83) follow the same format. First-generation
15-digit numbers are no longer valid and are refused.

The number is private data (《志愿服务条例》 art. 39): see `privacy.py` for storing it.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from services.chassis.errors import InvalidInput

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum mod 11
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
ADULT_AGE = 18

# Province-level codes (GB/T 2260 plus 81/82/83 for the residence permits): with 11 check
# characters a random string passes the check one time in 11, the province catches most of those.
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)

SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def invalid_id_number(code, message, field="id_number"):
    """InvalidInput naming `field` (the chassis maps it to a 422 with `code`)."""
    return InvalidInput(code, message, {field: [message]})


@dataclass(frozen=True)
class IdNumber:
    number: str  # the 18 characters, check character X in upper case
    birth_date: date
    sex: str  # "male" or "female"
    region_code: str  # the first six digits

    def __repr__(self):
        # never print the whole number in logs or tracebacks
        return f"IdNumber(number='{self.number[:6]}********{self.number[-4:]}')"


def check_character(body):
    """The check character of the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)) % 11]


def parse_id_number(text, today):
    """The IdNumber written in `text`, or InvalidInput (`invalid_id_number`).

    Full-width characters and spaces are tolerated (as typed on phones) and x becomes X;
    the birth date must be a real date between 1900-01-01 and `today`.
    """
    number = re.sub(r"\s", "", unicodedata.normalize("NFKC", text or "")).upper()
    if not SHAPE.fullmatch(number):
        raise invalid_id_number("id_number.format", "身份证号码应为18位，由17位数字加1位数字或X组成")
    if number[:2] not in PROVINCES:
        raise invalid_id_number("id_number.region", "身份证号码的地区码无效")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid_id_number("id_number.birth_date", "身份证号码中的出生日期不存在") from None
    if not EARLIEST_BIRTH_DATE <= birth_date <= today:
        raise invalid_id_number("id_number.birth_date", "身份证号码中的出生日期不在合理范围内")
    if check_character(number[:17]) != number[17]:
        raise invalid_id_number("id_number.check_digit", "身份证号码校验位错误，请核对后重新输入")
    return IdNumber(number, birth_date, "male" if int(number[16]) % 2 else "female", number[:6])


def age_on(birth_date, day):
    """Age in full years (周岁) on `day`: one year older on each birthday; someone born on
    29 February becomes a year older on 1 March in common years."""
    if day < birth_date:
        raise ValueError("day is before the birth date")
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_minor(birth_date, day):
    """Under 18 on `day` (a minor volunteers with a guardian's consent)."""
    return age_on(birth_date, day) < ADULT_AGE
