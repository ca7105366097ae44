"""Centers and venues at the edge: reads of one center come from the read model (no RPC);
every write goes to the centers service with the caller as `actor`, and the center it
returns is applied to the read model at once (read-your-writes on this replica)."""
import re

from services.chassis.errors import InvalidInput, NotFound

from .problems import bad_request
from .routing import Reply

CENTERS = "/api/v1/centers"
VENUES = "/api/v1/venues"
ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def get_center(read_model, centers, center_id):
    encoded = read_model.get_encoded(center_id)
    if encoded is None:  # not seen yet (just created elsewhere, or before the first snapshot)
        read_model.apply(centers.get_center(center_id))
        encoded = read_model.get_encoded(center_id)
    return Reply(200, encoded, {"ETag": _etag(read_model.get(center_id))})


def written(read_model, center, status=200):
    """The reply to a command that returns a center, after applying it locally."""
    read_model.apply(center)
    headers = {"ETag": _etag(center)}
    if status == 201:
        headers["Location"] = f"{CENTERS}/{center['id']}"
    return Reply(status, center, headers)


def expected_version(if_match):
    """If-Match: "<version>" → the version the update expects; None without the header."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = ETAG.match(if_match.strip())
    if match is None:
        raise bad_request("request.if_match_invalid", 'If-Match 须为 "<version>"，例如 "3"')
    return int(match.group(1))


def ancestors(read_model, centers, center_id):
    if read_model.get(center_id) is not None:
        found = read_model.ancestors(center_id)
        if found is not None:
            return found
    return centers.get_ancestors(center_id)


def is_within(read_model, centers, center_id, root_id):
    """Whether `center_id` is `root_id` or below it (unknown centers are not within)."""
    known = read_model.is_within(center_id, root_id)
    if known is not None:
        return known
    try:
        return center_id == root_id or any(c["id"] == root_id for c in centers.get_ancestors(center_id))
    except NotFound:
        return False


def require_center(read_model, centers, center_id, field):
    """A center that must exist for the input to make sense: otherwise a 422 on `field`."""
    if read_model.get(center_id) is not None:
        return
    try:
        read_model.apply(centers.get_center(center_id))
    except NotFound:
        raise InvalidInput("center.unknown", "中心不存在", {field: ["中心不存在。"]}) from None


def _etag(center):
    return f'"{center["version"]}"'

