"""Volunteers: real-name registration, profile, status, transfers and private data.

The ID number and the phone leave the service masked (`1407**********123X`, `138****8000`)
in every view; the gateway shows even the masked value only to the volunteer themself and
to staff whose scope holds the volunteer's home station (field visibility, `owner_anchor`
and `scope_anchor` below). The clear values leave the service only through `reveal` (admins
of the volunteer's scope, written to the privacy audit) and `export_my_data` (the volunteer).
"""

from marshmallow import fields, validate

from services.centers.contract import PLATFORMS
from services.chassis import event_schemas as js
from services.chassis.actors import TEAM_LEADER, VOLUNTEER
from services.chassis.schemas import (
    Flag,
    PartialSchema,
    StrictSchema,
    Text,
    Whole,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)

# The roles that act as the volunteer linked to their account (a team leader is a volunteer too).
SELF_ROLES = (VOLUNTEER, TEAM_LEADER)
PRIVACY_STATEMENT_VERSION = "2026-11"  # the privacy statement (隐私声明) a registration consents to
STATUSES = ("active", "suspended", "deregistered")
CHANNELS = ("self", "staff", "import")
AVAILABLE_TIMES = ("weekday_daytime", "weekday_evening", "weekend", "holiday", "flexible")
SEXES = ("male", "female")
PRIVATE_FIELDS = ("id_number", "phone")
_CONSENT_NEEDED = f"须同意当前隐私声明（版本 {PRIVACY_STATEMENT_VERSION}）。"
MAX_SKILLS = 20

# Private to the volunteer and to staff of their scope; others never get the field.
_PRIVATE = {"visibility": "staff"}


def _private(description):
    return {"metadata": {"description": description, **_PRIVATE}}


class GuardianSchema(StrictSchema):
    """A minor's guardian, who consents to the registration (《志愿服务条例》: minors need consent)."""

    name = Text(required=True, validate=length(1, 50), **described("The guardian's name."))
    relation = Text(required=True, validate=length(1, 20), **described("e.g. 父亲, 母亲."))
    phone = Text(required=True, validate=length(5, 30), **described("The guardian's mobile phone (stored encrypted)."))
    consented = Flag(required=True, **described("Must be true: the guardian agrees."))


class ConsentSchema(StrictSchema):
    version = Text(
        required=True,
        validate=validate.Equal(PRIVACY_STATEMENT_VERSION, error=_CONSENT_NEEDED),
        **described(f"The privacy statement's version consented to: {PRIVACY_STATEMENT_VERSION}."),
    )
    accepted_at = fields.AwareDateTime(
        load_default=None, **described("When it was accepted (ISO 8601 with zone); now if left out.")
    )


def _skills():
    return fields.List(
        Text(validate=length(1, 20)),
        validate=validate.Length(max=MAX_SKILLS, error=f"技能最多 {MAX_SKILLS} 项。"),
        **described(f"Skills in the volunteer's words (e.g. 书法, 急救), at most {MAX_SKILLS}."),
    )


def _categories():
    return fields.List(
        fields.String(validate=one_of(PLATFORMS)),
        **described("Service categories, among the five platforms: " + ", ".join(PLATFORMS) + "."),
    )


def _times():
    return fields.List(
        fields.String(validate=one_of(AVAILABLE_TIMES)),
        **described("When the volunteer can serve: " + ", ".join(AVAILABLE_TIMES) + "."),
    )


class ProfileUpdateSchema(PartialSchema):
    """What a volunteer (or staff of their scope) may change; identity fields are not here."""

    phone = Text(validate=length(5, 30), **described("Mainland mobile phone, 11 digits (+86 accepted)."))
    skills = _skills()
    service_categories = _categories()
    available_times = _times()


class RegistrationSchema(ProfileUpdateSchema):
    name = Text(required=True, validate=length(1, 50), **described("Real name (实名)."))
    id_number = Text(
        required=True,
        validate=length(1, 40),
        **described("Resident ID card number, 18 characters with a valid check character (GB 11643)."),
    )
    phone = Text(required=True, validate=length(5, 30), **described("Mainland mobile phone, 11 digits."))
    home_station_id = id_field("The home station (an active center).", required=True)
    privacy_consent = Whole(ConsentSchema, required=True, **described("Consent to the privacy statement."))
    guardian = Whole(
        GuardianSchema, allow_none=True, load_default=None, **described("Required when the volunteer is a minor.")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class GuardianViewSchema(StrictSchema):
    name = fields.String()
    relation = fields.String()


class ConsentViewSchema(StrictSchema):
    version = fields.String()
    accepted_at = fields.DateTime()


class VolunteerSchema(StrictSchema):
    """A volunteer as every method returns it: private data masked, or null once erased."""

    id = fields.Integer(**described("Volunteer id."))
    volunteer_number = fields.String(**described("The public volunteer number, e.g. JZXY-2026-000123."))
    account_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The volunteer's own account, if they registered themself.", "owner_anchor": True},
    )
    name = fields.String(allow_none=True, **described("Real name; null once erased."))
    id_number = fields.String(allow_none=True, **_private("ID number, masked (1407**********123X)."))
    phone = fields.String(allow_none=True, **_private("Mobile phone, masked (138****8000)."))
    sex = fields.String(allow_none=True, **_private("male or female, from the ID number."))
    birth_date = fields.Date(allow_none=True, **_private("From the ID number."))
    guardian = fields.Nested(GuardianViewSchema, allow_none=True, **_private("A minor's guardian."))
    skills = fields.List(fields.String())
    service_categories = fields.List(fields.String())
    available_times = fields.List(fields.String())
    home_station_id = fields.Integer(metadata={"description": "The home station.", "scope_anchor": True})
    status = fields.String(**described(", ".join(STATUSES) + "."))
    status_reason = fields.String(allow_none=True)
    privacy_consent = fields.Nested(ConsentViewSchema, allow_none=True)
    channel = fields.String(**described("How they registered: " + ", ".join(CHANNELS) + "."))
    erased = fields.Boolean(**described("Personal data erased (deregistered)."))
    version = fields.Integer(**described("Starts at 1; +1 on every change."))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class VolunteerPageSchema(StrictSchema):
    items = fields.List(fields.Nested(VolunteerSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class VolunteerListQuerySchema(StrictSchema):
    """Also the HTTP query string, hence numbers given as text are accepted."""

    home_station_id = id_field("Only volunteers of this home station.", strict=False)
    within = id_field("Only volunteers whose home station is in this center's subtree.", strict=False)
    status = fields.String(validate=one_of(STATUSES), **described("Only this status."))
    category = fields.String(validate=one_of(PLATFORMS), **described("Only volunteers serving it."))
    q = Text(validate=length(1, 50), **described("Name contains this text, or the exact volunteer number."))
    page = page_field()
    page_size = page_size_field()


class StatusSchema(StrictSchema):
    status = fields.String(required=True, validate=one_of(STATUSES), **described(", ".join(STATUSES) + "."))
    reason = Text(
        allow_none=True,
        load_default=None,
        validate=length(1, 200),
        **described("Required unless the status is active; deregistered erases the personal data."),
    )


class TransferSchema(StrictSchema):
    to_station_id = id_field("The new home station (an active center).", required=True)
    reason = Text(required=True, validate=length(1, 200), **described("Why (e.g. 搬迁)."))


class TransferViewSchema(StrictSchema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    from_station_id = fields.Integer()
    to_station_id = fields.Integer()
    reason = fields.String()
    actor_account_id = fields.String()
    at = fields.DateTime()


class RevealSchema(StrictSchema):
    fields_ = fields.List(
        fields.String(validate=one_of(PRIVATE_FIELDS)),
        data_key="fields",
        required=True,
        validate=validate.Length(min=1, error="至少选择一项。"),
        **described("Which: " + ", ".join(PRIVATE_FIELDS) + "."),
    )
    reason = Text(required=True, validate=length(2, 200), **described("Why (written to the audit log)."))


class RevealedSchema(StrictSchema):
    """What `reveal` returns: the clear values asked for (admins of the scope only)."""

    volunteer_id = fields.Integer(metadata={"description": "The volunteer."})
    home_station_id = fields.Integer(metadata={"description": "The home station.", "scope_anchor": True})
    id_number = fields.String(metadata={"description": "In clear.", "visibility": "admin"})
    phone = fields.String(metadata={"description": "In clear.", "visibility": "admin"})


class AuditEntrySchema(StrictSchema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    home_station_id = fields.Integer()
    action = fields.String(**described("reveal, export or erase."))
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    reason = fields.String(allow_none=True)
    actor_account_id = fields.String()
    actor_role = fields.String()
    request_id = fields.String(allow_none=True)
    at = fields.DateTime()


class AuditQuerySchema(StrictSchema):
    volunteer_id = id_field("Only this volunteer.", strict=False)
    page = page_field()
    page_size = page_size_field()


class AuditPageSchema(StrictSchema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


# --- events ---------------------------------------------------------------------------------

VOLUNTEER_REGISTERED = "volunteer.registered"
VOLUNTEER_UPDATED = "volunteer.updated"
VOLUNTEER_STATUS_CHANGED = "volunteer.status_changed"
VOLUNTEER_TRANSFERRED = "volunteer.transferred"

# What every volunteer event carries: no name, ID number or phone (others ask the service).
VOLUNTEER_PROPERTIES = {
    "id": js.ID,
    "volunteer_number": {"type": "string", "minLength": 1},
    "account_id": js.nullable(js.ID),
    "home_station_id": js.ID,
    "status": js.one_of(STATUSES),
    "skills": {"type": "array", "items": {"type": "string"}},
    "service_categories": {"type": "array", "items": js.one_of(PLATFORMS)},
    "available_times": {"type": "array", "items": js.one_of(AVAILABLE_TIMES)},
    "version": js.VERSION,
    "updated_at": js.TIMESTAMP,
}

EVENT_SCHEMAS = {
    VOLUNTEER_REGISTERED: js.event_object(
        {**VOLUNTEER_PROPERTIES, "channel": js.one_of(CHANNELS)}, "A volunteer registered (实名注册)."
    ),
    VOLUNTEER_UPDATED: js.event_object(VOLUNTEER_PROPERTIES, "A volunteer's profile changed."),
    VOLUNTEER_STATUS_CHANGED: js.event_object(
        {**VOLUNTEER_PROPERTIES, "previous_status": js.one_of(STATUSES), "reason": js.nullable(js.TEXT)},
        "A volunteer was suspended, reactivated or deregistered (their personal data then erased).",
    ),
    VOLUNTEER_TRANSFERRED: js.event_object(
        {**VOLUNTEER_PROPERTIES, "previous_home_station_id": js.ID, "reason": js.TEXT},
        "A volunteer moved to another home station.",
    ),
}


class ExportedVolunteerSchema(VolunteerSchema):
    """The volunteer as their own export shows it: ID number and phone in clear."""

    id_number = fields.String(allow_none=True, **_private("ID number, in clear (the volunteer's own export)."))
    phone = fields.String(allow_none=True, **_private("Mobile phone, in clear (the volunteer's own export)."))


class VolunteerExportSchema(StrictSchema):
    """Everything the service holds on the calling volunteer (`export_my_data`)."""

    volunteer = fields.Nested(ExportedVolunteerSchema)
    transfers = fields.List(fields.Nested(TransferViewSchema))
    privacy_audit = fields.List(fields.Nested(AuditEntrySchema))
    teams = fields.Raw(**described("What the teams part holds (memberships, applications)."))
    hours = fields.Raw(**described("What the hour ledger holds (entries, back-fills, disputes)."))
    points = fields.Raw(**described("The points account and its history."))
    certificates = fields.Raw(**described("Certificates issued."))
