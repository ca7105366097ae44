"""The gateway's own HTTP payload: problems. The payloads of the services come from their
`contract` modules (one definition, two uses)."""

from marshmallow import fields

from services.chassis.schemas import StrictSchema


class ProblemSchema(StrictSchema):
    """RFC 9457 problem details, the body of every error response."""

    type = fields.String(metadata={"description": "URI identifying the problem type."})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "Human-readable explanation (zh-CN)."})
    code = fields.String(metadata={"description": "Stable, dotted identifier, e.g. `center.code_taken`."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per input field (dotted paths for nested fields)."},
    )
    request_id = fields.String(metadata={"description": "Also in the X-Request-Id header."})
    instance = fields.String()
