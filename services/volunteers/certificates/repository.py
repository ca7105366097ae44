"""The SQL of the certificate registry. Functions take a SQLAlchemy session from the chassis."""

import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from services.chassis.errors import NotFound
from services.volunteers.certificates.domain import Stored
from services.volunteers.certificates.models import Certificate
from services.volunteers.certificates.signing import canonical


def add_certificate(session, content, signature, issued_at):
    """The registry row of a certificate just signed: its content frozen as canonical JSON."""
    certificate = Certificate(
        number=content["number"],
        volunteer_id=content["volunteer_id"],
        issuing_center_id=content["issuing_center_id"],
        issuing_center_name=content["issuing_center_name"],
        period_start=date.fromisoformat(content["period_start"]),
        period_end=date.fromisoformat(content["period_end"]),
        total_hours=Decimal(content["total_hours"]),
        activity_count=len(content["activities"]),
        content=canonical(content).decode("utf-8"),
        signature=signature,
        key_id=content["key_id"],
        issued_on=date.fromisoformat(content["issued_on"]),
        issued_by=content["issued_by"],
        issued_at=issued_at,
    )
    session.add(certificate)
    return certificate


def find_certificate(session, number):
    """The certificate of `number`, or None."""
    return session.scalars(sa.select(Certificate).where(Certificate.number == number)).first()


def get_certificate(session, number, volunteer_id):
    """The certificate of `number` issued to `volunteer_id`; NotFound otherwise."""
    certificate = find_certificate(session, number)
    if certificate is None or certificate.volunteer_id != volunteer_id:
        raise NotFound("certificate.not_found", f"证明 {number} 不存在。")
    return certificate


def certificates_of(session, volunteer_id):
    """A volunteer's certificates, the newest first."""
    return session.scalars(
        sa.select(Certificate)
        .where(Certificate.volunteer_id == volunteer_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    ).all()


def stored(certificate):
    """What verification compares with: the content as issued and its signature."""
    return None if certificate is None else Stored(json.loads(certificate.content), certificate.signature)


def delete_certificates_of(session, volunteer_id):
    session.execute(sa.delete(Certificate).where(Certificate.volunteer_id == volunteer_id))
