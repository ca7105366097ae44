"""The calendar entrypoints of the activities service (a mixin of ActivitiesService): the
iCalendar feed of a center's activities, the feed of a volunteer's sign-ups at a secret URL,
and the issue and revocation of that URL's token. The contract:
services/activities/contract/calendars.py.

The feeds are read without an actor: a center's feed holds published activities and nothing
personal, and a volunteer's feed is authorized by its token alone (calendar clients send no
bearer token). Issuing a token is deliberately not an idempotent `@command`: a replayed
outcome would have to keep the token itself, where only its hash may be kept; a retry
issues another token and revokes the first, which leaves the caller with one that works.
"""

from services.activities import access
from services.activities.calendars import domain, feeds
from services.activities.calendars import repository as repo
from services.activities.calendars.models import CalendarToken
from services.activities.contract import calendars as contract
from services.activities.roster import repository as roster
from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.db import state
from services.chassis.errors import Conflict
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load_id

UNIQUE = {"uq_calendar_tokens_live": Conflict("calendar.token_busy", "日历订阅地址正在生成，请稍后重试。")}

_feed = contract.FeedSchema()
_token = contract.CalendarTokenSchema()
_revocation = contract.RevocationSchema()


class CalendarEntrypoints:
    @rpc
    def center_calendar(self, center_id):
        """The feed of the activities organized in a center's subtree; NotFound for an unknown center."""
        center_id = load_id(center_id, "center_id")
        subtree = self.centers.get_subtree(center_id)
        now = utcnow()
        since, until = domain.window(now)
        with self.db.read() as session:
            rows = repo.center_activities(
                session, [center["id"] for center in subtree], since, until, contract.MAX_FEED_EVENTS
            )
            activities = [state(row) for row in rows]
        root = next(center for center in subtree if center["id"] == center_id)
        return _feed.dump(feeds.center_feed(root, activities, now))

    @rpc
    def volunteer_calendar(self, token):
        """The feed at a volunteer's secret URL; NotFound for a token malformed, unknown or
        revoked, and once the volunteer is deregistered."""
        token_hash = domain.presented_hash(token)
        now = utcnow()
        since, until = domain.window(now)
        with self.db.read() as session:
            issued = repo.live_token(session, token_hash)
            volunteer = None if issued is None else roster.volunteer_copy(session, issued.volunteer_id)
            if volunteer is None or volunteer.status == "deregistered":
                raise domain.feed_not_found()
            volunteer_id = volunteer.volunteer_id
            rows = repo.volunteer_entries(session, volunteer_id, since, until, contract.MAX_FEED_EVENTS)
            entries = [(state(activity), status) for activity, status in rows]
        return _feed.dump(feeds.volunteer_feed(volunteer_id, entries, now))

    @rpc
    def issue_calendar_token(self, actor):
        """A new secret URL for the caller's own feed, shown this once; the previous one is revoked."""
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        token, token_hash = domain.new_token()
        with self.db.unit_of_work() as uow:
            volunteer = roster.require_volunteer_of_account(uow.session, actor.account_id)
            roster.volunteer_copy(uow.session, volunteer.volunteer_id, lock=True)  # one issue at a time
            now = utcnow()
            repo.revoke_live(uow.session, volunteer.volunteer_id, now)
            uow.session.add(CalendarToken(volunteer_id=volunteer.volunteer_id, token_hash=token_hash, created_at=now))
        return _token.dump({"token": token, "path": contract.FEED_PATH.format(token=token), "issued_at": now})

    @command
    def revoke_calendar_token(self, actor):
        """Revoke the caller's secret URL (none: nothing to do); its feed answers NotFound."""
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        with self.db.unit_of_work() as uow:
            volunteer = roster.require_volunteer_of_account(uow.session, actor.account_id)
            revoked = repo.revoke_live(uow.session, volunteer.volunteer_id, utcnow())
        return _revocation.dump({"revoked": revoked})
