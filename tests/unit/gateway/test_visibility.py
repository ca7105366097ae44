"""The pure logic of private fields (gateway/visibility.py): rules, masks, who is in scope,
redaction of nested records, the routing layer's filter and the OpenAPI extension."""

import asyncio
import json
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields

from gateway import openapi, visibility
from gateway.encoding import encode
from gateway.routes import ROUTES
from gateway.routing import Reply, RouteTable, shown_to_caller
from services.centers.contract import CenterPageSchema, CenterSchema, SubtreeCenterSchema
from services.chassis.actors import ROLES, Actor


class Tree:
    """county 1 → a 2 → a1 3; county 1 → b 4; 99 is unknown."""

    parents = {1: None, 2: 1, 3: 2, 4: 1}

    def is_within(self, center_id, root_id):
        if center_id not in self.parents:
            return None
        while center_id is not None:
            if center_id == root_id:
                return True
            center_id = self.parents[center_id]
        return False


class PersonSchema(Schema):
    name = fields.String()
    phone = fields.String(metadata={"visibility": "staff"})
    id_card = fields.String(metadata={"visibility": "admin", "mask": [4, 4], "masked_visibility": "staff"})
    volunteer_no = fields.String(metadata={"visibility": "admin", "mask": [2, 2]})


class TeamSchema(Schema):
    center_id = fields.Integer(metadata={"scope_anchor": True})
    leader = fields.Nested(PersonSchema)
    members = fields.List(fields.Nested(PersonSchema))
    notes = fields.String(metadata={"visibility": "admin"})


class DirectorySchema(Schema):
    teams = fields.List(fields.Nested(TeamSchema))
    total = fields.Integer()


PERSON = {"name": "王芳", "phone": "13800001111", "id_card": "14070219900101123X", "volunteer_no": "JZ0001"}


def team(center_id):
    return {"center_id": center_id, "leader": dict(PERSON), "members": [dict(PERSON)], "notes": "内部备注"}


def viewer(role=None, scope=None):
    return visibility.Viewer.of(None if role is None else Actor("1", role, scope), Tree())


# -- rules and masks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, keep, masked",
    [
        ("14070219900101123X", (4, 4), "1407**********123X"),
        ("13800001111", (3, 4), "138****1111"),
        ("1234", (2, 2), "****"),  # too short to keep anything hidden
        ("", (1, 1), ""),
        (12345678, (1, 1), "1******8"),
    ],
)
def test_mask_text_keeps_both_ends_only_when_something_stays_hidden(value, keep, masked):
    assert visibility.mask_text(value, *keep) == masked


@pytest.mark.parametrize(
    "metadata",
    [
        {"visibility": "staf"},
        {"visibility": "staff", "mask": [4]},
        {"visibility": "staff", "mask": [-1, 2]},
        {"visibility": "staff", "mask": [1, 1], "masked_visibility": "admin"},
        {"visibility": "staff", "masked_visibility": "public"},
    ],
)
def test_metadata_that_cannot_be_honoured_is_refused(metadata):
    with pytest.raises(ValueError):
        visibility.rule_of(fields.String(metadata=metadata))


def test_a_field_without_visibility_is_public():
    assert visibility.rule_of(fields.String()) is None
    assert visibility.rule_of(fields.String(metadata={"visibility": "public"})) is None


# -- who is in scope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, scope, center, level",
    [
        (None, None, 3, "public"),
        ("resident", 2, 3, "public"),
        ("volunteer", 2, 3, "public"),
        ("team_leader", 2, 3, "staff"),
        ("team_leader", 2, 4, "public"),
        ("team_leader", None, 3, "public"),  # staff without a scope hold nothing
        ("center_admin", 2, 2, "admin"),
        ("center_admin", 2, 3, "admin"),
        ("center_admin", 2, 1, "public"),  # above its scope
        ("center_admin", 2, 4, "public"),
        ("center_admin", 2, 99, "public"),  # unknown to the read model: out of scope
        ("center_admin", 2, None, "public"),  # a record without a center
        ("county_admin", None, 4, "admin"),
        ("county_admin", None, 99, "admin"),
    ],
)
def test_the_viewer_level_follows_role_and_scope(role, scope, center, level):
    assert viewer(role, scope).level(center) == level


def test_every_role_is_placed():
    placed = set(visibility.STAFF_ROLES) | {"resident", "volunteer"}
    assert placed == set(ROLES) and set(visibility.ADMIN_ROLES) <= set(visibility.STAFF_ROLES)


# -- redaction -------------------------------------------------------------------------------


def test_fields_are_left_out_or_masked_by_level():
    schema = TeamSchema()
    public = visibility.redact(schema, team(3), viewer("resident"))
    assert public["leader"] == {"name": "王芳", "volunteer_no": "JZ**01"}
    assert public["members"] == [public["leader"]] and "notes" not in public
    staff = visibility.redact(schema, team(3), viewer("team_leader", 2))
    assert staff["leader"] == {
        "name": "王芳",
        "phone": "13800001111",
        "id_card": "1407**********123X",
        "volunteer_no": "JZ**01",
    }
    assert "notes" not in staff
    admin = visibility.redact(schema, team(3), viewer("center_admin", 2))
    assert admin == team(3)


def test_a_left_out_field_is_left_out_even_when_null():
    record = dict(team(3), leader=dict(PERSON, phone=None, id_card=None))
    shown = visibility.redact(TeamSchema(), record, viewer("resident"))
    assert "phone" not in shown["leader"] and "id_card" not in shown["leader"]
    staff = visibility.redact(TeamSchema(), record, viewer("team_leader", 2))
    assert staff["leader"]["phone"] is None and staff["leader"]["id_card"] is None


def test_each_record_is_judged_by_its_own_center():
    directory = {"teams": [team(3), team(4)], "total": 2}
    shown = visibility.redact(DirectorySchema(), directory, viewer("center_admin", 2))
    assert shown["teams"][0] == team(3)
    assert "phone" not in shown["teams"][1]["leader"] and "notes" not in shown["teams"][1]
    many = visibility.redact(TeamSchema(), [team(3), team(4)], viewer("center_admin", 2), many=True)
    assert many == shown["teams"]


def test_the_input_is_never_changed_and_comes_back_when_nothing_is_hidden():
    record = team(3)
    visibility.redact(TeamSchema(), record, viewer("resident"))
    assert record == team(3)
    assert visibility.redact(TeamSchema(), record, viewer("center_admin", 2)) is record
    assert visibility.redact(TeamSchema(), record, viewer("county_admin")) is record
    records = [team(3), team(2)]
    assert visibility.redact(TeamSchema(), records, viewer("center_admin", 2), many=True) is records


def test_encoded_bodies_are_redacted_and_kept_as_they_are_when_nothing_is_hidden():
    body = encode(team(3))
    assert visibility.redact_encoded(TeamSchema(), body, viewer("center_admin", 2)) is body
    shown = json.loads(visibility.redact_encoded(TeamSchema(), body, viewer("volunteer")))
    assert "phone" not in shown["leader"] and "notes" not in shown


def test_a_dict_of_records_with_private_fields_is_refused():
    class ByName(Schema):
        people = fields.Dict(keys=fields.String(), values=fields.Nested(PersonSchema))

    with pytest.raises(ValueError):
        visibility.plan(ByName())


CENTER = {
    "id": 3,
    "parent_id": 2,
    "name": "a1 实践站",
    "managers": [{"name": "李明", "phone": "13900002222"}, {"name": "赵刚", "phone": None}],
    "contact_phone": "0354-1234567",
}


def test_a_station_managers_phone_is_for_staff_in_scope_only():
    for schema, value, many in (
        (CenterSchema(), CENTER, False),
        (SubtreeCenterSchema(), [dict(CENTER, depth=0)], True),
        (CenterPageSchema(), {"items": [CENTER], "total": 1, "page": 1, "page_size": 20}, False),
    ):
        for role, scope, sees in (
            ("resident", None, False),
            ("volunteer", 2, False),
            ("team_leader", 2, True),
            ("team_leader", 4, False),
            ("center_admin", 3, True),
            ("center_admin", 4, False),
            ("county_admin", None, True),
        ):
            shown = visibility.redact(schema, value, viewer(role, scope), many)
            text = json.dumps(shown, ensure_ascii=False)
            assert ("13900002222" in text) is sees, (schema, role, scope)
            assert "0354-1234567" in text and "李明" in text  # public fields stay


# -- the routing layer -----------------------------------------------------------------------


def run(handler, principal):
    edge = SimpleNamespace(read_model=Tree())
    call = SimpleNamespace(principal=principal)
    return asyncio.run(handler(edge, call, center_id=3))


def test_the_routing_layer_filters_every_kind_of_handler_output():
    async def plain(edge, call, center_id):
        return dict(CENTER)

    async def reply(edge, call, center_id):
        return Reply(201, dict(CENTER), {"ETag": '"1"'})

    async def encoded(edge, call, center_id):
        return Reply(200, encode(CENTER), {"ETag": '"1"'})

    resident = Actor("1", "resident")
    assert "phone" not in run(shown_to_caller(plain, CenterSchema()), resident)["managers"][0]
    replied = run(shown_to_caller(reply, CenterSchema()), resident)
    assert replied.status == 201 and replied.headers == {"ETag": '"1"'} and "13900002222" not in str(replied.body)
    bytes_reply = run(shown_to_caller(encoded, CenterSchema()), resident)
    assert b"13900002222" not in bytes_reply.body and bytes_reply.headers == {"ETag": '"1"'}
    assert b"13900002222" in run(shown_to_caller(encoded, CenterSchema()), Actor("1", "center_admin", 2)).body
    assert "phone" not in run(shown_to_caller(plain, CenterSchema()), None)["managers"][0]


def test_routes_without_private_fields_are_not_wrapped_and_names_are_kept():
    async def handler(edge, call):
        return {}

    assert shown_to_caller(handler, None) is handler
    table = RouteTable(tag="t")
    table.route("GET", "/x", auth=None, summary="x", response=CenterSchema())(handler)
    (spec,) = table
    assert spec.handler is not handler and spec.name == "handler"


def test_every_route_returning_a_center_is_filtered():
    filtered = {spec.name for spec in ROUTES if getattr(spec.handler, "__wrapped__", None) is not None}
    returning_centers = {
        spec.name
        for spec in ROUTES
        if spec.response is not None and "CenterSchema" in {type(s).__name__ for s in _schemas(spec.response)}
    }
    assert returning_centers and returning_centers <= filtered
    assert {"get_center", "list_centers", "get_subtree", "get_ancestors", "create_center"} <= filtered


def _schemas(schema):
    yield schema
    for field_obj in schema.fields.values():
        while isinstance(field_obj, fields.List):
            field_obj = field_obj.inner
        if isinstance(field_obj, fields.Nested):
            yield from _schemas(field_obj.schema)


# -- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_documents_each_private_field():
    document = openapi.build(ROUTES)
    phone = document["components"]["schemas"]["Manager"]["properties"]["phone"]
    assert phone["x-visibility"] == "staff" and "Private: shown in full only to staff" in phone["description"]
    assert "x-visibility" not in document["components"]["schemas"]["Manager"]["properties"]["name"]
    get_center = document["paths"]["/api/v1/centers/{center_id}"]["get"]
    assert "x-visibility" in get_center["description"]


def test_openapi_documents_a_mask():
    converter = SimpleNamespace()
    out = openapi.visibility_attributes(converter, PersonSchema().fields["id_card"], {"description": "ID."})
    assert out["x-visibility"] == "admin"
    assert out["x-visibility-mask"] == {"shown_to": "staff", "keep_start": 4, "keep_end": 4}
    assert out["description"].startswith("ID. Private:") and "masked" in out["description"]


class OwnedSchema(Schema):
    account_id = fields.Integer(metadata={"owner_anchor": True})
    home_station_id = fields.Integer(metadata={"scope_anchor": True})
    phone = fields.String(metadata={"visibility": "staff"})


@pytest.mark.parametrize(
    ("caller", "sees_phone"),
    [
        (Actor("42", "volunteer"), True),  # the owner
        (Actor("43", "volunteer"), False),  # another volunteer
        (Actor("44", "center_admin", 4), False),  # staff of another subtree
        (Actor("45", "center_admin", 2), True),  # staff of the record's scope
    ],
)
def test_the_owner_of_a_record_sees_its_private_fields(caller, sees_phone):
    record = {"account_id": 42, "home_station_id": 3, "phone": "138****1111"}
    shown = visibility.redact(OwnedSchema(), record, visibility.Viewer.of(caller, Tree()))
    assert ("phone" in shown) is sees_phone
    assert shown["account_id"] == 42
