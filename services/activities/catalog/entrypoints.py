"""The catalog entrypoints of the activities service (a mixin of ActivitiesService): create,
change, publish, cancel, start and complete activities, and read them.

Thin, as in every service: load the input, read the rows, let `domain` decide, write the
change and its events in one unit of work. The contract: services/activities/contract/catalog.py.
Scope is asked of the centers service before a unit of work begins, so that no transaction
waits on the network.
"""

import logging

from nameko.timer import timer

from services.activities import views
from services.activities.catalog import changes, domain
from services.activities.catalog import repository as repo
from services.activities.contract import catalog as contract
from services.activities.organizers import Organizers
from services.activities.roster import repository as roster
from services.chassis.actors import load_actor
from services.chassis.clock import utcnow
from services.chassis.config import setting
from services.chassis.db import state
from services.chassis.errors import Conflict, NotFound
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id, load_page

log = logging.getLogger(__name__)

STALE = {"activities": Conflict("activity.version_conflict", "活动已被他人修改，请刷新后重试。")}
CLOCK_SECONDS = float(setting("ACTIVITY_CLOCK_SECONDS", 5))  # how often the clock moves activities


def _activity_id(value):
    return load_id(value, "activity_id")


class CatalogEntrypoints:
    @command
    def create_activity(self, data, actor):
        actor = load_actor(actor)
        values = load(contract.ActivityCreateSchema, data)
        organizers = Organizers(self.centers)
        with self.db.read() as session:  # scope first: an outsider learns nothing of the center
            organizers.require(session, actor, values["organizer_center_id"], values["team_id"])
            _require_active_leader(session, values.get("leader_volunteer_id"))
        organizers.reach.active_center(values["organizer_center_id"], "organizer_center_id")
        with self.db.unit_of_work() as uow:
            activity, seats = changes.add_activity(uow, domain.new_activity(values, actor.account_id, utcnow()))
            return views.activity_view(activity, seats)

    @command
    def update_activity(self, activity_id, data, actor, expected_version=None):
        actor = load_actor(actor)
        requested = load(contract.ActivityUpdateSchema, data)
        activity_id = _activity_id(activity_id)
        self._require_organizer(actor, activity_id, requested.get("team_id"))
        with self.db.unit_of_work() as uow:
            activity = repo.get_activity(uow.session, activity_id, lock=True)
            if expected_version is not None and expected_version != activity.version:
                raise STALE["activities"]
            before = state(activity)
            now = utcnow()
            changed = domain.changes(before, requested, now)
            if changed and "leader_volunteer_id" in changed:
                _require_active_leader(uow.session, changed["leader_volunteer_id"])
            seats = repo.seats_of(uow.session, activity_id, lock=True)
            if changed is None:
                return views.activity_view(activity, seats)
            changes.change(uow, activity, seats, changed, now)
            return views.activity_view(activity, seats)

    @command
    def publish_activity(self, activity_id, actor):
        return self._transition(activity_id, actor, lambda activity, now: domain.publish(activity, now))

    @command
    def start_activity(self, activity_id, actor):
        """Start early: from an hour before the start (the clock starts it at its start)."""
        return self._transition(activity_id, actor, domain.start_early)

    @command
    def complete_activity(self, activity_id, actor):
        """End early (the clock ends it at its end); open check-outs are closed now."""
        return self._transition(activity_id, actor, lambda activity, now: domain.complete_early(activity))

    @command
    def cancel_activity(self, activity_id, data, actor):
        """Cancel with a reason; every live sign-up is cancelled with it."""
        actor = load_actor(actor)
        reason = load(contract.CancelSchema, data)["reason"]
        activity_id = _activity_id(activity_id)
        self._require_organizer(actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = repo.get_activity(uow.session, activity_id, lock=True)
            seats = repo.seats_of(uow.session, activity_id, lock=True)
            changes.cancel(uow, activity, seats, reason, actor.account_id, utcnow())
            return views.activity_view(activity, seats)

    @rpc
    def get_activity(self, activity_id, actor):
        actor = load_actor(actor)
        with self.db.read() as session:
            activity = repo.get_activity(session, _activity_id(activity_id))
            organizers = Organizers(self.centers)
            if activity.status == "draft" and not organizers.may_organize(
                session, actor, activity.organizer_center_id, activity.team_id
            ):
                raise NotFound("activity.not_found", f"活动 {activity.id} 不存在。")
            return views.activity_view(activity, repo.seats_of(session, activity.id))

    @rpc
    def list_activities(self, filters, page, page_size, actor):
        """Activities soonest first; drafts only those the caller organizes as an admin."""
        actor = load_actor(actor)
        query, page, page_size = load_page(contract.ActivityListQuerySchema, filters, page, page_size)
        centers, drafts_of = Organizers(self.centers).listing(actor, query)
        with self.db.read() as session:
            rows, total = repo.list_activities(session, query, page, page_size, centers=centers, drafts_of=drafts_of)
            seats = repo.seats_by_activity(session, [row.id for row in rows])
            items = [views.activity_view(row, seats[row.id]) for row in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @timer(interval=CLOCK_SECONDS)
    def advance_by_clock(self):
        """Move activities whose start or end has passed; each in its own unit of work, so
        that one failure does not hold up the rest (the next tick retries it)."""
        now = utcnow()
        with self.db.read() as session:
            due = repo.due_by_clock(session, now)
        for activity_id in due:
            try:
                with self.db.unit_of_work() as uow:
                    activity = repo.get_activity(uow.session, activity_id, lock=True)
                    status = domain.due_by_clock(state(activity), now)
                    if status is not None:
                        changes.move(uow, activity, {"status": status}, now)
            except Exception:
                log.exception("activity %s: the clock could not move it", activity_id)

    # --- helpers --------------------------------------------------------------------------

    def _require_organizer(self, actor, activity_id, new_team_id=None):
        return Organizers(self.centers).require_of(self.db, actor, activity_id, new_team_id)

    def _transition(self, activity_id, actor, decide):
        actor = load_actor(actor)
        activity_id = _activity_id(activity_id)
        self._require_organizer(actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = repo.get_activity(uow.session, activity_id, lock=True)
            now = utcnow()
            changes.move(uow, activity, decide(state(activity), now), now)
            return views.activity_view(activity, repo.seats_of(uow.session, activity_id))


def _require_active_leader(session, volunteer_id):
    """An activity's leader is an active volunteer this service has heard of."""
    if volunteer_id is None:
        return
    copy = roster.volunteer_copy(session, volunteer_id)
    domain.require_active_leader(copy.status if copy else None)
