"""Service record certificates (志愿服务记录证明): issued for a volunteer and a period by their
home station, signed (Ed25519) so that anyone can check one is genuine and unaltered.

A certificate travels as a document: `certificate` (the signed content), `signature`
(base64url Ed25519 over the canonical JSON of `certificate`) and `verification_code` (printed
on the PDF beside the number). How a third party verifies: docs/volunteers-rpc.md,
"Certificates". Events carry no name (the document does; it is read by the volunteer, by
admins of the scope, and by whoever holds the number with its code).
"""

from marshmallow import fields, validate

from services.chassis import event_schemas as js
from services.chassis.schemas import StrictSchema, Text, Whole, date_field, described, id_field, length

CERTIFICATE_FORMAT = "wenming.volunteer-service-record.v1"
HOURS_PATTERN = r"^[0-9]+\.[0-9]{2}$"
MAX_ACTIVITIES = 1000  # entries on one certificate; a longer record is certified in several periods

_HOURS = "Hours as a decimal string with two places, e.g. 12.50."


class IssueSchema(StrictSchema):
    period_start = date_field("The first day of the period (YYYY-MM-DD).", required=True)
    period_end = date_field("The last day of the period, included; not after today.", required=True)


class ActivityLineSchema(StrictSchema):
    served_on = fields.String(**described("The day served, YYYY-MM-DD."))
    activity_title = fields.String(**described("The activity, as the organizer named it."))
    hours = fields.String(**described(_HOURS))


class CertificateContentSchema(StrictSchema):
    """What a certificate states; its signature covers exactly this object."""

    format = fields.String(**described(f"Always {CERTIFICATE_FORMAT}."))
    number = fields.String(**described("The certificate number, e.g. ZS-2026-7K3M-9QXD-W2PA."))
    volunteer_id = fields.Integer(**described("The volunteer's id in the service."))
    volunteer_number = fields.String(**described("The public volunteer number."))
    name = fields.String(**described("The volunteer's real name at issue."))
    period_start = fields.String(**described("First day certified, YYYY-MM-DD."))
    period_end = fields.String(**described("Last day certified, YYYY-MM-DD."))
    total_hours = fields.String(**described("The sum of the entries' hours. " + _HOURS))
    activities = fields.List(
        fields.Nested(ActivityLineSchema), **described("Every confirmed entry in the period, by date.")
    )
    issuing_center_id = fields.Integer(**described("The issuing center: the volunteer's home station at issue."))
    issuing_center_name = fields.String(**described("Its name at issue."))
    issued_on = fields.String(**described("The date of issue (China time), YYYY-MM-DD."))
    issued_by = fields.String(**described("The account that asked for the certificate."))
    key_id = fields.String(**described("The id of the key that signed it (GET /api/v1/certificates/keys)."))


class CertificateSchema(StrictSchema):
    """A certificate document: what GET returns, what the PDF carries as an attachment, and
    what POST /api/v1/certificates/verify takes back."""

    certificate = fields.Nested(CertificateContentSchema)
    signature = fields.String(
        **described("Ed25519 over the canonical JSON of `certificate` (sorted keys, no spaces, UTF-8), base64url.")
    )
    verification_code = fields.String(**described("The code printed on the PDF: 16 characters in groups of 4."))


class CertificateSummarySchema(StrictSchema):
    number = fields.String()
    volunteer_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    total_hours = fields.String(**described(_HOURS))
    activity_count = fields.Integer(**described("How many entries it lists."))
    issuing_center_id = fields.Integer()
    issuing_center_name = fields.String()
    issued_on = fields.Date()


def _stated(description):
    return Text(required=True, validate=length(1, 200), **described(description))


class PresentedActivitySchema(StrictSchema):
    served_on = _stated("As issued.")
    activity_title = _stated("As issued.")
    hours = _stated("As issued.")


class PresentedContentSchema(StrictSchema):
    """A certificate's content as presented: every field it states, none other (a field added
    or missing is refused as input; any value changed fails the signature)."""

    format = _stated("As issued.")
    number = _stated("As issued.")
    volunteer_id = id_field("As issued.", required=True)
    volunteer_number = _stated("As issued.")
    name = _stated("As issued.")
    period_start = _stated("As issued.")
    period_end = _stated("As issued.")
    total_hours = _stated("As issued.")
    activities = fields.List(
        Whole(PresentedActivitySchema),
        required=True,
        validate=validate.Length(max=MAX_ACTIVITIES, error=f"最多 {MAX_ACTIVITIES} 条。"),
        **described("As issued."),
    )
    issuing_center_id = id_field("As issued.", required=True)
    issuing_center_name = _stated("As issued.")
    issued_on = _stated("As issued.")
    issued_by = _stated("As issued.")
    key_id = _stated("As issued.")


class VerifySchema(StrictSchema):
    """A certificate document presented for verification (as GET returned it)."""

    certificate = Whole(PresentedContentSchema, required=True, **described("The certificate object exactly as issued."))
    signature = Text(required=True, validate=length(1, 200), **described("Its signature, base64url."))
    verification_code = Text(
        load_default=None, allow_none=True, validate=length(1, 40), **described("If given, must match the signature.")
    )


class VerifyCodeQuerySchema(StrictSchema):
    code = Text(required=True, validate=length(1, 40), **described("The verification code printed on the PDF."))


class VerificationSchema(StrictSchema):
    valid = fields.Boolean(**described("True when the certificate is genuine and unaltered."))
    reason = fields.String(
        allow_none=True,
        **described(
            "Why not: certificate.malformed, certificate.unknown_key, certificate.signature_invalid, "
            "certificate.code_mismatch, certificate.not_issued, certificate.not_matching, certificate.not_verified."
        ),
    )
    message = fields.String(**described("The verdict in words (zh-CN)."))
    certificate = fields.Nested(
        CertificateContentSchema, allow_none=True, **described("What the genuine certificate states; null if invalid.")
    )


class PublicKeySchema(StrictSchema):
    kid = fields.String(**described("The key id certificates name in `key_id`."))
    kty = fields.String(**described("OKP."))
    crv = fields.String(**described("Ed25519."))
    alg = fields.String(**described("EdDSA."))
    x = fields.String(**described("The raw 32-byte public key, base64url."))


class CertificateKeysSchema(StrictSchema):
    current_key_id = fields.String(**described("The key new certificates are signed with."))
    keys = fields.List(fields.Nested(PublicKeySchema), **described("Every key that verifies, as JWKs (RFC 8037)."))


# --- events ---------------------------------------------------------------------------------

CERTIFICATE_ISSUED = "certificate.issued"

EVENT_SCHEMAS = {
    CERTIFICATE_ISSUED: js.event_object(
        {
            "id": js.ID,
            "number": js.TEXT,
            "volunteer_id": js.ID,
            "volunteer_number": js.TEXT,
            "issuing_center_id": js.ID,
            "period_start": js.DATE,
            "period_end": js.DATE,
            "total_hours": {"type": "string", "pattern": HOURS_PATTERN},
            "activity_count": {"type": "integer", "minimum": 1},
            "issued_on": js.DATE,
            "issued_by": js.TEXT,
            "key_id": js.TEXT,
            "issued_at": js.TIMESTAMP,
        },
        "A service record certificate was issued; data is its registry entry (no name).",
    ),
}
