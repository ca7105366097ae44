"""Service record certificates (志愿服务记录证明): the entrypoints (a mixin of VolunteersService).
Rules: `domain.py`; signatures: `signing.py`; the printable form: `pdf.py`; the registry:
`models.py`, `repository.py`; keys and font: `config.py`.

Who may do what:
- issue: the volunteer themself, or an admin whose scope holds their home station. Either way
  the home station issues it from the confirmed ledger ("whoever records certifies": the
  record, not the person asking, is what the certificate states), so self-service needs no
  clerk, as on the national platforms;
- read a certificate (JSON, PDF) or the list: the volunteer themself, or an admin whose scope
  holds the volunteer's home station (or, for one certificate, the center that issued it);
- verify, and read the public keys: anyone.
"""

import base64
import secrets

from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.errors import Conflict
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach
from services.volunteers import access
from services.volunteers.certificates import domain, pdf
from services.volunteers.certificates import repository as repo
from services.volunteers.certificates.config import CertificateConfig
from services.volunteers.contract.certificates import (
    CERTIFICATE_ISSUED,
    CertificateSummarySchema,
    IssueSchema,
    VerifyCodeQuerySchema,
    VerifySchema,
)
from services.volunteers.hours.repository import confirmed_entries
from services.volunteers.repository import get_volunteer

UNIQUE = {"uq_certificates_number": Conflict("certificate.number_taken", "证明编号冲突，请重试。")}
STALE = {}

_summary = CertificateSummarySchema()


def personal_export(session, volunteer_id):
    """The volunteer's certificates, for their export of everything held on them."""
    return [_document(certificate) for certificate in repo.certificates_of(session, volunteer_id)]


def on_deregistered(uow, volunteer, actor):
    """A deregistered volunteer's certificates are withdrawn: their content names the person,
    whose data is erased; verifying one answers that it is not in the registry."""
    repo.delete_certificates_of(uow.session, volunteer.id)


def _document(certificate):
    stored = repo.stored(certificate)
    return domain.document(stored.content, stored.signature)


def _event_data(certificate, content):
    """certificate.issued: the registry entry, without the name (docs/events.md)."""
    return {
        "id": certificate.id,
        "number": certificate.number,
        "volunteer_id": certificate.volunteer_id,
        "volunteer_number": content["volunteer_number"],
        "issuing_center_id": certificate.issuing_center_id,
        "period_start": content["period_start"],
        "period_end": content["period_end"],
        "total_hours": content["total_hours"],
        "activity_count": certificate.activity_count,
        "issued_on": content["issued_on"],
        "issued_by": certificate.issued_by,
        "key_id": certificate.key_id,
        "issued_at": certificate.issued_at.isoformat().replace("+00:00", "Z"),
    }


class CertificateEntrypoints:
    certificate_config = CertificateConfig()

    @command
    def issue_certificate(self, volunteer_id, data, actor):
        """A certificate of the volunteer's confirmed hours from `period_start` to `period_end`."""
        actor = load_actor(actor)
        period = load(IssueSchema, data)
        volunteer_id = load_id(volunteer_id, "volunteer_id")
        now = utcnow()
        today = domain.local_date(now)
        domain.check_period(period["period_start"], period["period_end"], today)
        keys = self.certificate_config.keys
        with self.db.unit_of_work() as uow:
            volunteer = get_volunteer(uow.session, volunteer_id)
            if not access.is_self(actor, volunteer.account_id):
                Reach(self.centers).require_admin_of(actor, volunteer.home_station_id)
            domain.require_certifiable(volunteer.status, volunteer.erased_at is not None)
            station = self.centers.get_center(volunteer.home_station_id)
            content = domain.certificate_content(
                domain.Issue(
                    number=domain.new_number(today.year, secrets.randbits(domain.NUMBER_RANDOM_BITS)),
                    volunteer_id=volunteer.id,
                    volunteer_number=volunteer.volunteer_number,
                    name=volunteer.name,
                    period_start=period["period_start"],
                    period_end=period["period_end"],
                    entries=confirmed_entries(uow.session, volunteer.id, period["period_start"], period["period_end"]),
                    center_id=station["id"],
                    center_name=station["name"],
                    issued_on=today,
                    issued_by=actor.account_id,
                    key_id=keys.current_key_id,
                )
            )
            signature = keys.sign(content)
            certificate = repo.add_certificate(uow.session, content, signature, now)
            uow.flush()
            uow.emit(CERTIFICATE_ISSUED, subject=str(certificate.id), data=_event_data(certificate, content))
            return domain.document(content, signature)

    @rpc
    def list_certificates(self, volunteer_id, actor):
        """The volunteer's certificates, the newest first (summaries, without the entries)."""
        actor = load_actor(actor)
        with self.db.read() as session:
            volunteer = get_volunteer(session, load_id(volunteer_id, "volunteer_id"))
            if not access.is_self(actor, volunteer.account_id):
                Reach(self.centers).require_admin_of(actor, volunteer.home_station_id)
            return _summary.dump(repo.certificates_of(session, volunteer.id), many=True)

    @rpc
    def get_certificate(self, volunteer_id, number, actor):
        """The certificate document: `certificate`, `signature`, `verification_code`."""
        with self.db.read() as session:
            return _document(self._readable(session, load_actor(actor), volunteer_id, number))

    @rpc
    def get_certificate_pdf(self, volunteer_id, number, actor):
        """The printable certificate: {"filename", "content": the PDF in base64}."""
        with self.db.read() as session:
            document = _document(self._readable(session, load_actor(actor), volunteer_id, number))
        data = pdf.render(document, self.certificate_config.font)
        return {"filename": f"{document['certificate']['number']}.pdf", "content": base64.b64encode(data).decode()}

    @rpc
    def verify_certificate(self, document):
        """Whether a certificate document (as GET returned it) is genuine and unaltered; public."""
        presented = load(VerifySchema, document)
        number = presented["certificate"].get("number")
        with self.db.read() as session:
            found = repo.find_certificate(session, number) if isinstance(number, str) else None
            return domain.verify_document(self.certificate_config.keys, presented, repo.stored(found))

    @rpc
    def verify_certificate_code(self, number, code):
        """Whether `code` is the verification code of certificate `number`; with the content
        when it is. Public: the code printed on the PDF is the credential."""
        number = domain.parse_number(number)
        code = load(VerifyCodeQuerySchema, {"code": code}, code="query.invalid")["code"]
        with self.db.read() as session:
            found = repo.find_certificate(session, number)
            return domain.verify_code(self.certificate_config.keys, code, repo.stored(found))

    @rpc
    def certificate_keys(self):
        """The public keys that verify certificates (JWKs), the current one first."""
        keys = self.certificate_config.keys
        return {"current_key_id": keys.current_key_id, "keys": keys.jwks()}

    def _readable(self, session, actor, volunteer_id, number):
        """The certificate `number` of the volunteer, if `actor` may read it."""
        volunteer = get_volunteer(session, load_id(volunteer_id, "volunteer_id"))
        certificate = repo.get_certificate(session, domain.parse_number(number), volunteer.id)
        if not access.is_self(actor, volunteer.account_id):
            reach = Reach(self.centers)
            stations = dict.fromkeys((volunteer.home_station_id, certificate.issuing_center_id))
            access.require_admin(actor, any(reach.within(actor, station) for station in stations))
        return certificate
