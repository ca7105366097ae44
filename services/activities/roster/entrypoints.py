"""The roster entrypoints (a mixin of ActivitiesService): this service's copies of the
volunteers service's volunteers and team memberships, kept from its events so that a
sign-up needs no synchronous call. Each handler applies an event once (the chassis records
it) and only when it is newer than the copy; an event that breaks the volunteers contract is
dead-lettered at once. A volunteer who is suspended or deregistered leaves the activities
they signed up for that have not begun (the heads of the waitlists move up)."""

from services.activities.catalog import repository as activities_repo
from services.activities.roster import domain
from services.activities.roster import repository as repo
from services.activities.roster.models import TeamMembershipCopy, VolunteerCopy
from services.activities.signups import repository as signups_repo
from services.activities.signups import seating
from services.chassis.clock import utcnow
from services.chassis.consumer import PoisonEvent, reliable_event_handler
from services.volunteers.contract import SERVICE as VOLUNTEERS
from services.volunteers.contract.registration import (
    VOLUNTEER_REGISTERED,
    VOLUNTEER_STATUS_CHANGED,
    VOLUNTEER_TRANSFERRED,
    VOLUNTEER_UPDATED,
)
from services.volunteers.contract.teams import TEAM_MEMBER_JOINED, TEAM_MEMBER_LEFT, TEAM_UPDATED

SUSPENDED_REASON = "志愿者状态变更（暂停或注销），报名自动取消。"


class RosterEntrypoints:
    @reliable_event_handler(VOLUNTEERS, VOLUNTEER_REGISTERED)
    def roster_on_volunteer_registered(self, event):
        self._copy_volunteer("activities.roster_on_volunteer_registered", event)

    @reliable_event_handler(VOLUNTEERS, VOLUNTEER_UPDATED)
    def roster_on_volunteer_updated(self, event):
        self._copy_volunteer("activities.roster_on_volunteer_updated", event)

    @reliable_event_handler(VOLUNTEERS, VOLUNTEER_STATUS_CHANGED)
    def roster_on_volunteer_status_changed(self, event):
        self._copy_volunteer("activities.roster_on_volunteer_status_changed", event)

    @reliable_event_handler(VOLUNTEERS, VOLUNTEER_TRANSFERRED)
    def roster_on_volunteer_transferred(self, event):
        self._copy_volunteer("activities.roster_on_volunteer_transferred", event)

    @reliable_event_handler(VOLUNTEERS, TEAM_MEMBER_JOINED)
    def roster_on_team_member_joined(self, event):
        self._copy_membership("activities.roster_on_team_member_joined", event, domain.joined)

    @reliable_event_handler(VOLUNTEERS, TEAM_MEMBER_LEFT)
    def roster_on_team_member_left(self, event):
        self._copy_membership("activities.roster_on_team_member_left", event, domain.left)

    @reliable_event_handler(VOLUNTEERS, TEAM_UPDATED)
    def roster_on_team_updated(self, event):
        """A new leader: the former one stays a member, the new one leads (no member event
        says so when the new leader was a member already)."""
        handover = _read(domain.handover, event.get("data"), event["type"])
        if handover is None:
            return
        with self.db.unit_of_work() as uow:
            if not uow.claim_event("activities.roster_on_team_updated", event["id"]):
                return
            for membership in handover:
                _apply_membership(uow, membership)

    # --- helpers --------------------------------------------------------------------------

    def _copy_volunteer(self, handler, event):
        facts = _read(domain.volunteer_facts, event["type"], event.get("data"))
        with self.db.unit_of_work() as uow:
            if not uow.claim_event(handler, event["id"]):
                return
            copy = repo.volunteer_copy(uow.session, facts.volunteer_id, lock=True)
            if not domain.newer(copy and copy.version, facts):
                return
            previous_status = copy.status if copy else None
            if copy is None:
                copy = VolunteerCopy(volunteer_id=facts.volunteer_id)
                uow.session.add(copy)
            copy.volunteer_number = facts.volunteer_number
            copy.account_id = facts.account_id
            copy.home_station_id = facts.home_station_id
            copy.status = facts.status
            copy.version = facts.version
            copy.updated_at = facts.updated_at
            uow.flush()
            if domain.stops_signups(previous_status, facts.status):
                _leave_upcoming(uow, facts.volunteer_id)

    def _copy_membership(self, handler, event, read):
        membership = _read(read, event.get("data"), event["type"])
        with self.db.unit_of_work() as uow:
            if uow.claim_event(handler, event["id"]):
                _apply_membership(uow, membership)


def _apply_membership(uow, membership):
    row = repo.membership(uow.session, membership.team_id, membership.volunteer_id, lock=True)
    if row is None:
        row = TeamMembershipCopy(team_id=membership.team_id, volunteer_id=membership.volunteer_id)
        uow.session.add(row)
    elif row.since > membership.at:
        return  # a late event, older than what the copy holds
    row.center_id = membership.center_id
    row.role = membership.role
    row.since = membership.at
    uow.flush()


def _read(read, *args):
    try:
        return read(*args)
    except domain.UnusableEvent as error:
        raise PoisonEvent(str(error)) from None


def _leave_upcoming(uow, volunteer_id):
    now = utcnow()
    for signup in signups_repo.upcoming_signups_of(uow.session, volunteer_id):
        activity = activities_repo.get_activity(uow.session, signup.activity_id)
        seats = activities_repo.seats_of(uow.session, signup.activity_id, lock=True)
        seating.cancel(uow, activity, seats, signup, "volunteer_inactive", SUSPENDED_REASON, "volunteers", now)
