"""Made-up but valid personal data for tests and demo data: ID numbers with a correct check
character (GB 11643), mainland mobile numbers."""

from datetime import date

from services.volunteers.id_card import check_character

REGION = "140724"  # 山西省晋中市昔阳县


def id_number(serial, born=date(1990, 5, 17), region=REGION):
    """A valid 18-character ID number; `serial` (0-999) makes it unique per birth date; odd
    serials are men, even serials women."""
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + check_character(body)


def phone(serial):
    return f"138{serial % 100_000_000:08d}"
