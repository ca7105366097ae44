"""The sign-up and attendance entrypoints of the activities service (a mixin of
ActivitiesService): sign up, cancel, rosters, check-in and check-out, and the organizer's
confirmation of attendance, which publishes what the volunteers service credits.

A sign-up needs no synchronous call: the volunteer's status and team memberships come from
this service's copies of the volunteers service's events (roster/). The contract:
services/activities/contract/signups.py.
"""

from services.activities import access
from services.activities.catalog import repository as activities_repo
from services.activities.contract import signups as contract
from services.activities.roster import repository as roster
from services.activities.signups import domain, seating
from services.activities.signups import repository as repo
from services.chassis.actors import load_actor
from services.chassis.clock import iso, utcnow
from services.chassis.db import save, state
from services.chassis.errors import Conflict
from services.chassis.rpc import command, rpc
from services.chassis.schemas import load, load_id

UNIQUE = {"uq_signups_live": domain.already_signed_up()}
STALE = {"signups": Conflict("signup.changed", "报名记录已被他人修改，请刷新后重试。")}

_signup = contract.SignupSchema()
_my_signup = contract.MySignupSchema()
_confirmation = contract.ConfirmationResultSchema()


def _activity_id(value):
    return load_id(value, "activity_id")


class SignupEntrypoints:
    # --- the volunteer's own ----------------------------------------------------------------

    @command
    def sign_up(self, activity_id, actor):
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        activity_id = _activity_id(activity_id)
        with self.db.unit_of_work() as uow:
            volunteer = roster.require_volunteer_of_account(uow.session, actor.account_id)
            activity = activities_repo.get_activity(uow.session, activity_id)
            now = utcnow()
            # every check that needs no lock first: a refusal never waits for the seats
            domain.require_open_for_signup(state(activity), now)
            member = roster.is_member(uow.session, activity.team_id, volunteer.volunteer_id)
            domain.require_eligible(volunteer.status, activity.team_only, member)
            if repo.live_signup(uow.session, activity_id, volunteer.volunteer_id) is not None:
                raise domain.already_signed_up()  # (two at once: the unique index refuses the second)
            # then one sign-up at a time: the seats locked, the activity as committed now (a
            # cancellation may have finished meanwhile), as few statements as can be under the lock
            seats, status = activities_repo.seats_for_sign_up(uow.session, activity_id)
            domain.require_open_for_signup({**state(activity), "status": status}, now)
            signup = seating.sign_up(uow, activity, seats, volunteer, now)
            waitlist_position = seats.waitlisted if signup.status == "waitlisted" else None  # the last in line
            return _signup.dump(_signup_fields(signup, volunteer.volunteer_number, waitlist_position))

    @command
    def cancel_my_signup(self, activity_id, data, actor):
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        reason = load(contract.CancelSignupSchema, data)["reason"]
        activity_id = _activity_id(activity_id)
        with self.db.unit_of_work() as uow:
            volunteer = roster.require_volunteer_of_account(uow.session, actor.account_id)
            return self._cancel(uow, activity_id, volunteer.volunteer_id, "volunteer", reason, actor)

    @rpc
    def get_my_signup(self, activity_id, actor):
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        with self.db.read() as session:
            volunteer = roster.require_volunteer_of_account(session, actor.account_id)
            signup = repo.require_live_signup(session, _activity_id(activity_id), volunteer.volunteer_id)
            return _signup_view(session, signup, volunteer.volunteer_number)

    @rpc
    def my_signups(self, page, page_size, actor):
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        query = load(contract.PageQuerySchema, {"page": page, "page_size": page_size})
        with self.db.read() as session:
            volunteer = roster.require_volunteer_of_account(session, actor.account_id)
            rows, total = repo.my_signups(session, volunteer.volunteer_id, query["page"], query["page_size"])
            items = [
                _my_signup_view(session, signup, activity, volunteer.volunteer_number) for signup, activity in rows
            ]
        return {"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]}

    @command
    def check_in(self, activity_id, data, actor):
        position = load(contract.CheckInSchema, data)["position"]

        def checked_in(activity, signup, now):
            distance = domain.check_in(activity, signup, position, now)
            return {"checked_in_at": now, "check_in_distance_m": distance}, {"distance_m": distance}

        return self._attend(activity_id, actor, contract.ATTENDANCE_CHECKED_IN, checked_in)

    @command
    def check_out(self, activity_id, actor):
        def checked_out(activity, signup, now):
            return {"checked_out_at": domain.check_out(activity, signup, now)}, {"closed_by_service": False}

        return self._attend(activity_id, actor, contract.ATTENDANCE_CHECKED_OUT, checked_out)

    # --- the organizer's --------------------------------------------------------------------

    @rpc
    def list_signups(self, activity_id, status, page, page_size, actor):
        actor = load_actor(actor)
        activity_id = _activity_id(activity_id)
        query = load(
            contract.SignupListQuerySchema,
            {"page": page, "page_size": page_size, **({"status": status} if status else {})},
        )
        self._require_organizer(actor, activity_id)
        with self.db.read() as session:
            rows, total = repo.roster(session, activity_id, query.get("status"), query["page"], query["page_size"])
            positions = repo.waitlist_positions(session, activity_id)
            numbers = roster.volunteer_numbers(session, [row.volunteer_id for row in rows])
            items = [
                _signup.dump(_signup_fields(row, numbers.get(row.volunteer_id), positions.get(row.id))) for row in rows
            ]
        return {"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]}

    @command
    def remove_signup(self, activity_id, volunteer_id, data, actor):
        """An organizer takes a volunteer off the activity (the waitlist's head moves up)."""
        actor = load_actor(actor)
        reason = load(contract.CancelSignupSchema, data)["reason"]
        activity_id = _activity_id(activity_id)
        volunteer_id = load_id(volunteer_id, "volunteer_id")
        self._require_organizer(actor, activity_id)
        with self.db.unit_of_work() as uow:
            return self._cancel(uow, activity_id, volunteer_id, "organizer", reason, actor)

    @command
    def confirm_attendance(self, activity_id, data, actor):
        """Confirm attendance in bulk: attended (with hours) or no-show, one item per
        volunteer. Each change is published; the volunteers service credits the newest
        revision of each attendance once."""
        actor = load_actor(actor)
        items = load(contract.ConfirmAttendanceSchema, data)["attendances"]
        domain.require_distinct(items)
        activity_id = _activity_id(activity_id)
        self._require_organizer(actor, activity_id)
        with self.db.unit_of_work() as uow:
            activity = activities_repo.get_activity(uow.session, activity_id, lock=True)
            activity_state = state(activity)
            domain.require_confirmable(activity_state)
            signups = repo.signups_of_volunteers(uow.session, activity_id, [item["volunteer_id"] for item in items])
            now = utcnow()
            changed_rows, unchanged = [], 0
            for item in items:
                signup = signups.get(item["volunteer_id"])
                if signup is None:
                    raise domain.not_signed_up(item["volunteer_id"])
                previous = signup.attendance
                changed = domain.confirmation(activity_state, state(signup), item)
                if changed is None:
                    unchanged += 1
                    continue
                save(
                    signup,
                    {
                        **changed,
                        "attendance_confirmed_at": now,
                        "attendance_confirmed_by": actor.account_id,
                        "version": signup.version + 1,
                    },
                )
                changed_rows.append(signup)
                uow.flush()
                self._publish_attendance(uow, activity, signup, previous, now)
            numbers = roster.volunteer_numbers(uow.session, [row.volunteer_id for row in changed_rows])
            items = [_signup_fields(row, numbers.get(row.volunteer_id), None) for row in changed_rows]
            return _confirmation.dump({"confirmed": len(changed_rows), "unchanged": unchanged, "items": items})

    # --- helpers --------------------------------------------------------------------------

    def _attend(self, activity_id, actor, event_type, decide):
        """A volunteer's own step of attendance on their live sign-up: `decide(activity,
        signup, now)` (plain dicts) gives the fields it sets and what its event adds."""
        actor = load_actor(actor)
        access.require_volunteer_role(actor)
        activity_id = _activity_id(activity_id)
        with self.db.unit_of_work() as uow:
            volunteer = roster.require_volunteer_of_account(uow.session, actor.account_id)
            activity = activities_repo.get_activity(uow.session, activity_id)
            signup = repo.require_live_signup(uow.session, activity_id, volunteer.volunteer_id, lock=True)
            now = utcnow()
            changed, extra = decide(state(activity), state(signup), now)
            save(signup, {**changed, "version": signup.version + 1})
            uow.flush()
            uow.emit(event_type, subject=str(signup.id), data={**seating.event_data(activity, signup, now), **extra})
            return _signup_view(uow.session, signup, volunteer.volunteer_number)

    def _cancel(self, uow, activity_id, volunteer_id, because, reason, actor):
        activity = activities_repo.get_activity(uow.session, activity_id)
        seats = activities_repo.seats_of(uow.session, activity_id, lock=True)
        signup = repo.require_live_signup(uow.session, activity_id, volunteer_id, lock=True)
        domain.require_cancellable(state(signup), state(activity))
        seating.cancel(uow, activity, seats, signup, because, reason, actor.account_id, utcnow())
        return _signup_view(uow.session, signup, None)

    @staticmethod
    def _publish_attendance(uow, activity, signup, previous, now):
        at = {**seating.event_data(activity, signup, now)}
        if signup.attendance == "no_show":
            no_show = {**at, "attendance_id": signup.id, "revision": signup.attendance_revision}
            uow.emit(contract.ATTENDANCE_NO_SHOW, subject=str(signup.id), data=no_show)
        if domain.credits(previous, {"attendance": signup.attendance}):
            data = {
                "attendance_id": signup.id,
                "revision": signup.attendance_revision,
                "activity_id": activity.id,
                "activity_title": activity.title,
                "organizer_center_id": activity.organizer_center_id,
                "team_id": activity.team_id,
                "volunteer_id": signup.volunteer_id,
                "served_on": domain.served_on(state(activity)).isoformat(),
                "hours": float(signup.hours),
                "points_rule": {"kind": activity.points_kind, "rate": float(activity.points_rate)},
                "confirmed_at": iso(now),
            }
            uow.emit(contract.ATTENDANCE_CONFIRMED, subject=str(signup.id), data=data)


def _signup_fields(signup, volunteer_number, waitlist_position):
    return {
        **state(signup),
        "volunteer_number": volunteer_number,
        "waitlist_position": waitlist_position,
    }


def _signup_view(session, signup, volunteer_number):
    return _signup.dump(_signup_fields(signup, volunteer_number, repo.waitlist_position(session, signup)))


def _my_signup_view(session, signup, activity, volunteer_number):
    fields = _signup_fields(signup, volunteer_number, repo.waitlist_position(session, signup))
    return _my_signup.dump(
        {
            **fields,
            "activity_title": activity.title,
            "starts_at": activity.starts_at,
            "ends_at": activity.ends_at,
            "place": activity.place,
            "activity_status": activity.status,
        }
    )
