"""Teams (志愿服务队): a team belongs to a center, has a kind, a leader (a volunteer, always a
member) and members who joined on approval of their application or were added by an admin.

Who may do what (the service decides; the gateway checks roles only):
- create, change, dissolve or reactivate a team, add a member: admins whose scope holds the
  team's center;
- decide an application, remove a member, read the applications: the team's leader (the
  volunteer linked to the caller's account) or such an admin;
- read the roster: the leader, such an admin, and the team's members;
- apply, withdraw an application, leave a team, read one's own teams: the volunteer themself.

Team events carry ids, volunteer numbers and counts: never a name, an ID number or a phone.
"""

from marshmallow import fields

from services.chassis import event_schemas as js
from services.chassis.schemas import (
    PartialSchema,
    StrictSchema,
    Text,
    described,
    id_field,
    length,
    one_of,
    page_field,
    page_size_field,
)

STATUSES = ("active", "dissolved")
MEMBER_ROLES = ("leader", "member")
APPLICATION_STATUSES = ("pending", "approved", "rejected", "withdrawn")
DECISIONS = ("approved", "rejected")
JOINED_VIA = ("approved", "added", "leader")  # an approved application, an admin's addition, made leader
LEFT_BECAUSE = ("left", "removed", "deregistered")
MAX_DESCRIPTION = 1000
MY_APPLICATIONS_LIMIT = 50  # the newest applications `my_teams` lists

_KIND = "A team kind: one of the keys `team_kinds` lists (lecture, arts, ..., local)."
_LOCAL_KIND = "The county's own kind, e.g. 扶贫 or 文明旅游导游队: required when kind is local, else null."


# --- RPC payloads ---------------------------------------------------------------------------


class TeamUpdateSchema(PartialSchema):
    """What `update_team` may change (not the center, not the status)."""

    name = Text(validate=length(1, 100), **described("Unique within its center, e.g. 东阳镇文明旅游志愿服务队."))
    kind = Text(validate=length(1, 30), **described(_KIND))
    local_kind_name = Text(allow_none=True, validate=length(1, 50), **described(_LOCAL_KIND))
    description = Text(
        multiline=True,
        allow_none=True,
        validate=length(1, MAX_DESCRIPTION),
        **described(f"What the team does, up to {MAX_DESCRIPTION} characters."),
    )
    leader_volunteer_id = id_field("The leader (队长): an active volunteer, who becomes a member.")


class TeamCreateSchema(TeamUpdateSchema):
    center_id = id_field("The center the team belongs to (an active center).", required=True)
    name = Text(required=True, validate=length(1, 100), **described("Unique within its center."))
    kind = Text(required=True, validate=length(1, 30), **described(_KIND))
    local_kind_name = Text(allow_none=True, load_default=None, validate=length(1, 50), **described(_LOCAL_KIND))
    description = Text(
        multiline=True,
        allow_none=True,
        load_default=None,
        validate=length(1, MAX_DESCRIPTION),
        **described(f"What the team does, up to {MAX_DESCRIPTION} characters."),
    )
    leader_volunteer_id = id_field("The leader (队长): an active volunteer, who becomes a member.", required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", False)
        super().__init__(*args, **kwargs)


class TeamStatusSchema(StrictSchema):
    status = fields.String(required=True, validate=one_of(STATUSES), **described(", ".join(STATUSES) + "."))
    reason = Text(
        allow_none=True,
        load_default=None,
        validate=length(1, 200),
        **described("Required to dissolve (解散); pending applications are rejected with it."),
    )


class TeamSchema(StrictSchema):
    """A team as every method returns it."""

    id = fields.Integer(**described("Team id."))
    center_id = fields.Integer(metadata={"description": "The center it belongs to.", "scope_anchor": True})
    name = fields.String()
    kind = fields.String(**described(_KIND))
    kind_label = fields.String(**described("The kind in Chinese (宣讲, 文艺, ...; a local kind's own name)."))
    local_kind_name = fields.String(allow_none=True, **described(_LOCAL_KIND))
    description = fields.String(allow_none=True)
    leader_volunteer_id = fields.Integer(**described("The leader (队长)."))
    leader_volunteer_number = fields.String(**described("The leader's volunteer number."))
    leader_name = fields.String(allow_none=True, **described("The leader's name (null once erased)."))
    status = fields.String(**described(", ".join(STATUSES) + "."))
    status_reason = fields.String(allow_none=True, **described("Why it was dissolved."))
    member_count = fields.Integer(**described("Members, the leader included."))
    version = fields.Integer(**described("Starts at 1; +1 on every change of the team's own fields."))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TeamPageSchema(StrictSchema):
    items = fields.List(fields.Nested(TeamSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class TeamListQuerySchema(StrictSchema):
    """Also the HTTP query string, hence numbers given as text are accepted."""

    center_id = id_field("Only teams of this center.", strict=False)
    within = id_field("Only teams of centers in this center's subtree (itself included).", strict=False)
    kind = Text(validate=length(1, 30), **described(_KIND))
    status = fields.String(validate=one_of(STATUSES), **described("Only this status."))
    q = Text(validate=length(1, 100), **described("Name contains this text."))
    page = page_field()
    page_size = page_size_field()


class TeamKindSchema(StrictSchema):
    kind = fields.String(**described("The key a team's `kind` takes."))
    label = fields.String(**described("In Chinese, e.g. 宣讲."))


class MemberSchema(StrictSchema):
    """A line of a team's roster."""

    volunteer_id = fields.Integer()
    volunteer_number = fields.String()
    name = fields.String(allow_none=True, **described("Null once the volunteer's data is erased."))
    role = fields.String(**described(", ".join(MEMBER_ROLES) + "."))
    joined_via = fields.String(**described(", ".join(JOINED_VIA) + "."))
    joined_at = fields.DateTime()


class RosterSchema(StrictSchema):
    """A page of a roster: the leader first, then by the time they joined."""

    team_id = fields.Integer()
    items = fields.List(fields.Nested(MemberSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class PageQuerySchema(StrictSchema):
    page = page_field()
    page_size = page_size_field()


class ApplySchema(StrictSchema):
    note = Text(
        allow_none=True, load_default=None, validate=length(1, 200), **described("A word to the leader (optional).")
    )


class AddMemberSchema(StrictSchema):
    volunteer_id = id_field("The volunteer to add (active, not yet a member).", required=True)


class ReasonSchema(StrictSchema):
    reason = Text(required=True, validate=length(1, 200), **described("Why (the volunteer is told)."))


class ApplicationSchema(StrictSchema):
    id = fields.Integer(**described("Application id."))
    team_id = fields.Integer()
    team_name = fields.String()
    center_id = fields.Integer(metadata={"description": "The team's center.", "scope_anchor": True})
    volunteer_id = fields.Integer()
    volunteer_number = fields.String()
    volunteer_name = fields.String(allow_none=True)
    status = fields.String(**described(", ".join(APPLICATION_STATUSES) + "."))
    note = fields.String(allow_none=True, **described("The applicant's word to the leader."))
    reason = fields.String(allow_none=True, **described("Why it was rejected."))
    decided_by = fields.String(allow_none=True, **described("The account that approved, rejected or withdrew it."))
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ApplicationQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(APPLICATION_STATUSES), **described("Only this status."))


class ApplicationPageSchema(StrictSchema):
    items = fields.List(fields.Nested(ApplicationSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MembershipSchema(StrictSchema):
    team = fields.Nested(TeamSchema)
    role = fields.String(**described(", ".join(MEMBER_ROLES) + "."))
    joined_at = fields.DateTime()


class MyTeamsSchema(StrictSchema):
    """What `my_teams` returns: the caller's teams and their newest applications."""

    volunteer_id = fields.Integer()
    teams = fields.List(fields.Nested(MembershipSchema))
    applications = fields.List(
        fields.Nested(ApplicationSchema), **described(f"The newest {MY_APPLICATIONS_LIMIT}, newest first.")
    )


# --- events ---------------------------------------------------------------------------------

TEAM_CREATED = "team.created"
TEAM_UPDATED = "team.updated"
TEAM_MEMBER_JOINED = "team.member_joined"
TEAM_MEMBER_LEFT = "team.member_left"
TEAM_APPLICATION_SUBMITTED = "team.application_submitted"
TEAM_APPLICATION_DECIDED = "team.application_decided"
TEAM_APPLICATION_WITHDRAWN = "team.application_withdrawn"

TEAM_PROPERTIES = {
    "id": js.ID,
    "center_id": js.ID,
    "name": js.TEXT,
    "kind": js.TEXT,
    "local_kind_name": js.nullable(js.TEXT),
    "leader_volunteer_id": js.ID,
    "status": js.one_of(STATUSES),
    "status_reason": js.nullable(js.TEXT),
    "member_count": js.COUNT,
    "version": js.VERSION,
    "created_at": js.TIMESTAMP,
    "updated_at": js.TIMESTAMP,
}

# A member event's subject is the team's id; `member_count` is the count after the change.
MEMBER_PROPERTIES = {
    "team_id": js.ID,
    "center_id": js.ID,
    "volunteer_id": js.ID,
    "volunteer_number": js.TEXT,
    "account_id": js.nullable(js.ID),
    "role": js.one_of(MEMBER_ROLES),
    "member_count": js.COUNT,
    "at": js.TIMESTAMP,
}

# An application event's subject is the application's id.
APPLICATION_PROPERTIES = {
    "id": js.ID,
    "team_id": js.ID,
    "center_id": js.ID,
    "volunteer_id": js.ID,
    "volunteer_number": js.TEXT,
    "account_id": js.nullable(js.ID),
    "status": js.one_of(APPLICATION_STATUSES),
    "created_at": js.TIMESTAMP,
}

EVENT_SCHEMAS = {
    TEAM_CREATED: js.event_object(TEAM_PROPERTIES, "A team was created; its leader joined it (team.member_joined)."),
    TEAM_UPDATED: js.event_object(
        {
            **TEAM_PROPERTIES,
            "changed": {"type": "array", "items": js.TEXT, "minItems": 1},
            "previous_status": js.one_of(STATUSES),
            "previous_leader_volunteer_id": js.ID,
        },
        "A team's fields, leader or status (dissolved, reactivated) changed; `changed` names the fields.",
    ),
    TEAM_MEMBER_JOINED: js.event_object(
        {**MEMBER_PROPERTIES, "via": js.one_of(JOINED_VIA)},
        "A volunteer joined a team: application approved, added by an admin, or made its leader.",
    ),
    TEAM_MEMBER_LEFT: js.event_object(
        {
            **MEMBER_PROPERTIES,
            "reason": js.one_of(LEFT_BECAUSE),
            "explanation": js.nullable(js.TEXT),
            "by": js.TEXT,
        },
        "A volunteer left a team (reason left), was removed (reason removed, with the explanation they are given) "
        "or deregistered (reason deregistered).",
    ),
    TEAM_APPLICATION_SUBMITTED: js.event_object(
        {**APPLICATION_PROPERTIES, "leader_volunteer_id": js.ID},
        "A volunteer applied to join a team; the leader decides.",
    ),
    TEAM_APPLICATION_DECIDED: js.event_object(
        {
            **APPLICATION_PROPERTIES,
            "status": js.one_of(DECISIONS),
            "reason": js.nullable(js.TEXT),
            "decided_by": js.TEXT,
            "decided_at": js.TIMESTAMP,
        },
        "An application was approved or rejected (with the reason the applicant is told).",
    ),
    TEAM_APPLICATION_WITHDRAWN: js.event_object(
        {**APPLICATION_PROPERTIES, "status": js.one_of(("withdrawn",)), "decided_at": js.TIMESTAMP},
        "A volunteer withdrew their pending application.",
    ),
}
