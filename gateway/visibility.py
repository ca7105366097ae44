"""Private fields, shown only to those who may see them: one rule per field, declared once
on the contract's marshmallow field, enforced here on every route's response.

A field's metadata says who sees its value in full:

    phone = Text(metadata={"description": "...", "visibility": "staff"})

- `"public"` (the default): anyone who may call the route;
- `"staff"`: staff (county_admin, center_admin, team_leader) whose scope holds the record;
- `"admin"`: admins (county_admin, center_admin) whose scope holds the record.

Everyone else does not get the field at all, or, with `"mask": [keep_start, keep_end]`,
gets it masked (`1407**********123X`) if they have at least `"masked_visibility"`
(default `"public"`). A field left out is left out even when it is null, so that its
absence says nothing about the record; a masked null stays null.

The record's owner sees its private fields as an admin would: a field marked
`"owner_anchor": True` names the account the record belongs to (a volunteer's own account),
and a caller signed in with that account sees the record in full. (What "in full" means is
the service's choice: the volunteers service sends ID numbers and phones already masked.)

"In scope" is decided against the center the record belongs to: the value of the field
marked `"scope_anchor": True` (a center's `id`, a venue's `center_id`, a volunteer's home
station...), found on the record or inherited from the record it is nested in. A county
admin's scope is the whole county; anyone else's is the subtree of its `scope_center_id`
(none without one), as the gateway's read model knows the tree. A center the read model does
not know yet counts as out of scope: a private field is withheld rather than leaked.

gateway/routing.py applies `redact` to the output of every route whose response schema has
a private field; gateway/openapi.py documents each rule (`x-visibility`).
"""

import json
from dataclasses import dataclass, field

from marshmallow import fields as ma_fields

from services.chassis.actors import CENTER_ADMIN, COUNTY_ADMIN, TEAM_LEADER

from .encoding import encode

PUBLIC, STAFF, ADMIN = "public", "staff", "admin"
LEVELS = (PUBLIC, STAFF, ADMIN)  # each sees what the ones before it see
STAFF_ROLES = (COUNTY_ADMIN, CENTER_ADMIN, TEAM_LEADER)
ADMIN_ROLES = (COUNTY_ADMIN, CENTER_ADMIN)
LEVEL_NAMES = {
    PUBLIC: "anyone who may call the route",
    STAFF: "staff (county_admin, center_admin, team_leader) whose scope holds the record",
    ADMIN: "admins (county_admin, center_admin) whose scope holds the record",
}

# field metadata keys
VISIBILITY, MASK, MASKED_VISIBILITY = "visibility", "mask", "masked_visibility"
SCOPE_ANCHOR, OWNER_ANCHOR = "scope_anchor", "owner_anchor"


@dataclass(frozen=True)
class Rule:
    """Who sees a field in full (`level`); with `mask`, who sees it masked (`masked_level`)."""

    level: str
    mask: tuple = None  # (keep_start, keep_end)
    masked_level: str = PUBLIC

    def apply(self, value, viewer_level):
        """(shown, value): the value as `viewer_level` may see it, or shown=False."""
        if _rank(viewer_level) >= _rank(self.level):
            return True, value
        if self.mask is not None and _rank(viewer_level) >= _rank(self.masked_level):
            return True, None if value is None else mask_text(value, *self.mask)
        return False, None  # left out even when null, so that its absence tells nothing

    def describe(self):
        """A sentence for the field's OpenAPI description."""
        text = f"Private: shown in full only to {LEVEL_NAMES[self.level]}"
        if self.mask is not None:
            text += f"; masked (first {self.mask[0]} and last {self.mask[1]} characters kept) for "
            text += LEVEL_NAMES[self.masked_level]
            text += "; left out for anyone else." if self.masked_level != PUBLIC else "."
        else:
            text += "; left out of the response for anyone else."
        return text


def _rank(level):
    return LEVELS.index(level)


def rule_of(field_obj):
    """The field's rule, or None for a public field; refuses metadata it cannot honour, so a
    typo fails at import instead of leaking."""
    metadata = field_obj.metadata
    level = metadata.get(VISIBILITY, PUBLIC)
    masked_level = metadata.get(MASKED_VISIBILITY, PUBLIC)
    if level not in LEVELS or masked_level not in LEVELS:
        raise ValueError(f"visibility must be one of {LEVELS}, not {level!r} / {masked_level!r}")
    mask = metadata.get(MASK)
    if mask is not None:
        if len(mask) != 2 or not all(isinstance(n, int) and n >= 0 for n in mask):
            raise ValueError(f"mask must be [keep_start, keep_end], not {mask!r}")
        if _rank(masked_level) >= _rank(level):
            raise ValueError(f"masked_visibility {masked_level!r} must be below visibility {level!r}")
        mask = tuple(mask)
    elif MASKED_VISIBILITY in metadata:
        raise ValueError("masked_visibility needs a mask")
    if level == PUBLIC:
        return None
    return Rule(level, mask, masked_level)


def mask_text(value, keep_start, keep_end, char="*"):
    """`value` as text with all but its first `keep_start` and last `keep_end` characters
    replaced; entirely replaced when it is too short to keep anything hidden."""
    text = str(value)
    hidden = len(text) - keep_start - keep_end
    if hidden <= 0:
        return char * len(text)
    return text[:keep_start] + char * hidden + text[len(text) - keep_end :]


# -- who is looking ----------------------------------------------------------------------------


@dataclass
class Viewer:
    """The caller, as far as visibility goes: role and scope (None: not signed in), and the
    tree (`is_within(center_id, root_id)` → True/False/None when unknown)."""

    role: str = None
    scope_center_id: int = None
    tree: object = None
    account_id: str = None
    _levels: dict = field(default_factory=dict)

    @classmethod
    def of(cls, principal, tree):
        if principal is None:
            return cls()
        return cls(principal.role, principal.scope_center_id, tree, principal.account_id)

    def owns(self, owner):
        """Whether the record whose owner anchor holds `owner` (an account id) is the viewer's."""
        return self.account_id is not None and owner is not None and str(owner) == self.account_id

    @property
    def sees_everything(self):
        return self.role == COUNTY_ADMIN

    def covers(self, center_id):
        """Whether the record of `center_id` lies in the viewer's scope."""
        if self.role == COUNTY_ADMIN:
            return True
        if center_id is None or self.scope_center_id is None or self.tree is None:
            return False
        return self.tree.is_within(center_id, self.scope_center_id) is True

    def level(self, center_id):
        """The highest level the viewer has for a record of `center_id`."""
        if center_id not in self._levels:
            if self.role in STAFF_ROLES and self.covers(center_id):
                self._levels[center_id] = ADMIN if self.role in ADMIN_ROLES else STAFF
            else:
                self._levels[center_id] = PUBLIC
        return self._levels[center_id]


def sees_everything(principal):
    """Whether the caller (a verified principal, or None) sees every field of every record."""
    return principal is not None and principal.role == COUNTY_ADMIN


# -- the schemas' plans ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    anchor: str  # the key of the scope anchor field, or None
    rules: dict  # key -> Rule
    nested: dict  # key -> _Plan of the nested schema (only those with something private)
    owner: str = None  # the key of the owner anchor field, or None

    @property
    def empty(self):
        return not self.rules and not self.nested


_PLANS = {}
_EMPTY = _Plan(None, {}, {})


def plan(schema):
    """What `schema` hides, nested schemas included (cached per schema class and fields)."""
    key = (type(schema), tuple(schema.fields))
    if key not in _PLANS:
        _PLANS[key] = _EMPTY  # a schema nesting itself ends here
        _PLANS[key] = _build_plan(schema)
    return _PLANS[key]


def _build_plan(schema):
    anchor, owner, rules, nested = None, None, {}, {}
    for name, field_obj in schema.fields.items():
        key = field_obj.data_key or name
        if field_obj.metadata.get(SCOPE_ANCHOR):
            anchor = key
        if field_obj.metadata.get(OWNER_ANCHOR):
            owner = key
        rule = rule_of(field_obj)
        if rule is not None:
            rules[key] = rule
        inner = _nested_schema(field_obj)
        if inner is not None and not plan(inner).empty:
            nested[key] = plan(inner)
    return _Plan(anchor, rules, nested, owner)


def _nested_schema(field_obj):
    """The schema of a Nested field, or of a list (of lists) of them; a mapping of nested
    records with private fields is refused rather than passed through unfiltered."""
    while isinstance(field_obj, ma_fields.List):
        field_obj = field_obj.inner
    if isinstance(field_obj, ma_fields.Dict):
        values = field_obj.value_field
        if values is not None and (inner := _nested_schema(values)) is not None and not plan(inner).empty:
            raise ValueError("private fields inside a Dict are not supported; use a List of Nested")
        return None
    return field_obj.schema if isinstance(field_obj, ma_fields.Nested) else None


def has_private_fields(schema):
    return schema is not None and not plan(schema).empty


# -- redaction ---------------------------------------------------------------------------------


def redact(schema, value, viewer, many=False):
    """`value` (a dump of `schema`, a list of them with `many`) as `viewer` may see it. The
    input is never changed; when nothing is hidden the very same object comes back."""
    record_plan = plan(schema)
    if record_plan.empty or viewer.sees_everything:
        return value
    if many:
        return _each(value, lambda item: _record(record_plan, item, viewer, None))
    return _record(record_plan, value, viewer, None)


def redact_encoded(schema, body, viewer, many=False):
    """The same for a JSON body already encoded (the read model's bytes): the same bytes
    back when nothing is hidden."""
    if plan(schema).empty or viewer.sees_everything:
        return body
    value = json.loads(body)
    shown = redact(schema, value, viewer, many)
    return body if shown is value else encode(shown)


def _each(values, one):
    if not isinstance(values, list):
        return one(values)
    out = [one(item) for item in values]
    return values if all(new is old for new, old in zip(out, values, strict=True)) else out


def _record(record_plan, record, viewer, center_id):
    if not isinstance(record, dict):
        return record
    if record_plan.owner is not None and viewer.owns(record.get(record_plan.owner)):
        return record  # the owner's own record
    if record_plan.anchor is not None and isinstance(record.get(record_plan.anchor), int):
        center_id = record[record_plan.anchor]
    out, changed = {}, False
    for key, value in record.items():
        rule = record_plan.rules.get(key)
        if rule is not None:
            shown, new = rule.apply(value, viewer.level(center_id))
            if not shown:
                changed = True
                continue
            changed |= new is not value
            value = new
        inner = record_plan.nested.get(key)
        if inner is not None:
            new = _each_nested(inner, value, viewer, center_id)
            changed |= new is not value
            value = new
        out[key] = value
    return out if changed else record


def _each_nested(inner, value, viewer, center_id):
    if isinstance(value, list):
        return _each(value, lambda item: _each_nested(inner, item, viewer, center_id))
    return _record(inner, value, viewer, center_id)
