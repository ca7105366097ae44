"""Who organizes what: the facts `access.may_organize` decides on, gathered from the
centers service (scope) and this service's copy of team memberships (leaders)."""

from services.activities import access
from services.activities.catalog.repository import get_activity
from services.activities.roster import repository as roster
from services.chassis.scope import Reach, is_admin


class Organizers:
    def __init__(self, centers):
        self.reach = Reach(centers)

    def may_organize(self, session, actor, center_id, team_id):
        within = is_admin(actor) and self.reach.within(actor, center_id)
        return access.may_organize(actor, within, self._leads(session, actor, center_id, team_id))

    def require(self, session, actor, center_id, team_id):
        if not self.may_organize(session, actor, center_id, team_id):
            raise access.organizers_only()

    def listing(self, actor, query):
        """(centers, drafts_of) of a list: the subtree a `center_id` filter names (popped from
        `query`; None: every center) and the centers whose drafts the caller sees (an admin:
        those of their scope; anyone else: none)."""
        centers = None
        if "center_id" in query:
            centers = self.reach.subtree_ids(query.pop("center_id"), missing=[])
        return centers, self.reach.scope_ids(actor) if is_admin(actor) else []

    def require_of(self, db, actor, activity_id, new_team_id=None):
        """The actor organizes activity `activity_id` (and, when a change names another team,
        that team's activities too). Asked outside any unit of work: it may ask the centers
        service, and no transaction should wait on the network."""
        with db.read() as session:
            activity = get_activity(session, activity_id)
            self.require(session, actor, activity.organizer_center_id, activity.team_id)
            if new_team_id is not None and new_team_id != activity.team_id:
                self.require(session, actor, activity.organizer_center_id, new_team_id)
        return activity

    @staticmethod
    def _leads(session, actor, center_id, team_id):
        """The actor's volunteer leads team `team_id`, whose center organizes the activity."""
        if team_id is None or actor.role not in access.SELF_ROLES:
            return False
        volunteer = roster.volunteer_of_account(session, actor.account_id)
        return volunteer is not None and roster.leads(session, team_id, volunteer.volunteer_id, center_id)
