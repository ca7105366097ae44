"""The rules of calendar feeds, in plain Python: the secret token of a volunteer's feed and
the window of activities a feed holds.

The token is the feed's only credential (calendar clients send no bearer token): 256 random
bits, URL-safe. The database keeps its SHA-256 alone, and a presented token is looked up by
that hash, so neither a copy of the database nor the time a comparison takes gives a token
away. Anything that cannot be a token is refused without a query.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from services.activities.contract.calendars import FEED_DAYS_AFTER, FEED_DAYS_BEFORE, TOKEN_BYTES, TOKEN_PATTERN
from services.chassis.errors import NotFound

_TOKEN = re.compile(TOKEN_PATTERN)


def new_token():
    """(token, its hash): the token goes to the volunteer once, the hash to the database."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def presented_hash(token):
    """The hash to look a presented token up by; NotFound for a string no token can be."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise feed_not_found()
    return token_hash(token)


def feed_not_found():
    return NotFound("calendar.not_found", "日历订阅地址无效或已撤销。")


def window(now):
    """(since, until): a feed holds the activities starting in it."""
    return now - timedelta(days=FEED_DAYS_BEFORE), now + timedelta(days=FEED_DAYS_AFTER)
