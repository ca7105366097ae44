"""The rules of service record certificates (志愿服务记录证明), in plain Python.

A certificate states, for one volunteer and a period, their volunteer number and name, every
confirmed entry of service in it (date, activity, hours) and the total, the center that
issues it (the volunteer's home station: "whoever records certifies", 《志愿服务记录与证明出具办法》),
a number and the date of issue. Its content is frozen and signed at issue (signing.py); the
registry keeps both, and verification checks the signature before it looks at the registry.

Numbers (`ZS-2026-7K3M-9QXD-W2PA`) carry 60 random bits, so nobody can enumerate them to read
others' certificates. The verification code printed on the PDF is the signature's first 80
bits in the same alphabet (Crockford's base32: no I, L, O, U), so it can be read aloud and
typed: anyone holding a number and its code can have the certificate confirmed.
"""

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta, timezone
from decimal import Decimal

from services.chassis.errors import Conflict, InvalidInput
from services.volunteers.certificates.signing import canonical, from_b64url
from services.volunteers.contract.certificates import CERTIFICATE_FORMAT, MAX_ACTIVITIES

NUMBER_PREFIX = "ZS"  # 证书
NUMBER_RANDOM_BITS = 60
CODE_BYTES = 10  # 80 bits of the signature
CHINA = timezone(timedelta(hours=8), "CST")  # the date of issue is the county's date (no DST)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_GROUP = f"[{CROCKFORD}]{{4}}"
NUMBER = re.compile(rf"{NUMBER_PREFIX}-\d{{4}}-{_GROUP}-{_GROUP}-{_GROUP}")
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})  # what Crockford's alphabet reads as digits
_SEPARATORS = re.compile(r"[\s-]+")
HUNDREDTHS = Decimal("0.01")

VALID = "证明真实有效，内容与出具时一致。"
REASONS = {
    "certificate.malformed": "证明文件格式不正确：须含 certificate 对象和 signature 签名。",
    "certificate.unknown_key": "证明的签名密钥不是本平台的密钥。",
    "certificate.signature_invalid": "证明内容与签名不符：证明已被改动，或并非本平台出具。",
    "certificate.code_mismatch": "验证码与证明不符。",
    "certificate.not_issued": "本平台没有该编号证明的出具记录。",
    "certificate.not_matching": "证明内容与本平台的出具记录不一致。",
    "certificate.not_verified": "证明编号或验证码不正确。",
}


def local_date(now):
    """The county's calendar date at `now` (an aware datetime)."""
    return now.astimezone(CHINA).date()


def _base32(value, length):
    return "".join(CROCKFORD[(value >> (5 * shift)) & 31] for shift in reversed(range(length)))


def _grouped(text):
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def new_number(year, random_bits):
    """A certificate number of the year of issue and `random_bits` (NUMBER_RANDOM_BITS of them)."""
    return f"{NUMBER_PREFIX}-{year:04d}-{_grouped(_base32(random_bits, NUMBER_RANDOM_BITS // 5))}"


def parse_number(text, field="number"):
    """A certificate number as stored (upper case), or InvalidInput naming `field`."""
    number = text.strip().upper().translate(_TYPED) if isinstance(text, str) else ""
    if not NUMBER.fullmatch(number):
        message = "证明编号格式不正确，应形如 ZS-2026-7K3M-9QXD-W2PA。"
        raise InvalidInput("certificate.number_invalid", message, {field: [message]})
    return number


def verification_code(signature):
    """The code printed beside the number: the signature's first CODE_BYTES in base32, grouped."""
    raw = from_b64url(signature)[:CODE_BYTES]
    return _grouped(_base32(int.from_bytes(raw, "big"), CODE_BYTES * 8 // 5))


def normalize_code(text):
    """A code as typed (any case, with or without dashes or spaces, O for 0, I or L for 1)."""
    return _SEPARATORS.sub("", text).upper().translate(_TYPED) if isinstance(text, str) else ""


def same_code(typed, signature):
    """Whether `typed` is the verification code of `signature` (compared in constant time)."""
    return hmac.compare_digest(normalize_code(typed).encode(), normalize_code(verification_code(signature)).encode())


def check_period(start, end, today):
    """A period from `start` to `end` (both included) that has ended by `today`."""
    if start > end:
        message = "起始日期不能晚于结束日期。"
        raise InvalidInput("certificate.period_invalid", message, {"period_start": [message]})
    if end > today:
        message = "结束日期不能晚于今天：只能证明已完成的服务。"
        raise InvalidInput("certificate.period_in_future", message, {"period_end": [message]})


def require_certifiable(status, erased):
    """A deregistered volunteer (their personal data erased) gets no certificate."""
    if status == "deregistered" or erased:
        raise Conflict("certificate.volunteer_deregistered", "该志愿者已注销，不能出具志愿服务记录证明。")


def hours_text(hours):
    """Hours as the certificate states them: a decimal string with two places ("12.50")."""
    return f"{Decimal(hours).quantize(HUNDREDTHS):f}"


@dataclass(frozen=True)
class Issue:
    """What a certificate is issued from: the number, the volunteer and the center as they
    are now, the period and its confirmed entries (each with served_on, activity_title, hours)."""

    number: str
    volunteer_id: int
    volunteer_number: str
    name: str
    period_start: object  # date
    period_end: object  # date
    entries: list
    center_id: int
    center_name: str
    issued_on: object  # date
    issued_by: str  # the account that asked for it
    key_id: str


def certificate_content(issue):
    """The content a certificate states and its signature covers (plain JSON values only)."""
    if not issue.entries:
        message = "该期间内没有已确认的服务时长，无法出具证明。"
        raise InvalidInput("certificate.no_hours", message, {"period_start": [message], "period_end": [message]})
    if len(issue.entries) > MAX_ACTIVITIES:
        message = f"该期间内的服务记录超过 {MAX_ACTIVITIES} 条，请缩短期间分次出具。"
        raise InvalidInput("certificate.too_many_entries", message, {"period_end": [message]})
    return {
        "format": CERTIFICATE_FORMAT,  # signed: names the meaning of every field
        "number": issue.number,
        "volunteer_id": issue.volunteer_id,
        "volunteer_number": issue.volunteer_number,
        "name": issue.name,
        "period_start": issue.period_start.isoformat(),
        "period_end": issue.period_end.isoformat(),
        "total_hours": hours_text(sum((Decimal(entry.hours) for entry in issue.entries), Decimal(0))),
        "activities": [
            {
                "served_on": entry.served_on.isoformat(),
                "activity_title": entry.activity_title,
                "hours": hours_text(entry.hours),
            }
            for entry in issue.entries
        ],
        "issuing_center_id": issue.center_id,
        "issuing_center_name": issue.center_name,
        "issued_on": issue.issued_on.isoformat(),
        "issued_by": issue.issued_by,
        "key_id": issue.key_id,
    }


def document(content, signature):
    """The certificate as it leaves the service (JSON, and attached to the PDF)."""
    return {"certificate": content, "signature": signature, "verification_code": verification_code(signature)}


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the registry holds for a number: the content as issued and its signature."""

    content: dict
    signature: str


def _verdict(reason=None, content=None):
    return {
        "valid": reason is None,
        "reason": reason,
        "message": VALID if reason is None else REASONS[reason],
        "certificate": content if reason is None else None,
    }


def verify_document(keyring, presented, stored):
    """The verdict on a certificate document someone presents (`certificate`, `signature`,
    optionally `verification_code`): its signature first, then the registry's record of its
    number (`stored`, None when there is none)."""
    content, signature = presented.get("certificate"), presented.get("signature")
    if not isinstance(content, dict) or not isinstance(signature, str):
        return _verdict("certificate.malformed")
    kid = content.get("key_id")
    if not keyring.knows(kid):
        return _verdict("certificate.unknown_key")
    if not keyring.verifies(content, signature, kid):
        return _verdict("certificate.signature_invalid")
    code = presented.get("verification_code")
    if code is not None and not same_code(code, signature):
        return _verdict("certificate.code_mismatch")
    if stored is None:
        return _verdict("certificate.not_issued")
    if canonical(stored.content) != canonical(content):
        return _verdict("certificate.not_matching")
    return _verdict(content=content)


def verify_code(keyring, code, stored):
    """The verdict on a number (its record `stored`, None when unknown) and the code printed
    beside it. An unknown number and a wrong code get one answer, which tells nothing of
    which numbers exist; the record's own signature is checked too, so an altered registry
    row is refused."""
    if stored is None or not same_code(code, stored.signature):
        return _verdict("certificate.not_verified")
    if not keyring.verifies(stored.content, stored.signature, stored.content.get("key_id")):
        return _verdict("certificate.signature_invalid")
    return _verdict(content=stored.content)
