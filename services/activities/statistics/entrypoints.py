"""The statistics entrypoint of the activities service (a mixin of ActivitiesService): the
figures of a center's subtree for a period. The contract: services/activities/contract/statistics.py.

Read by admins whose scope holds the center. The figures carry no personal data, but unlike
the confirmed hours the volunteers service shows every signed-in caller, they are the
offices' management figures (no-shows, cancellations, each team's output), which the offices
above a center compare and report on; a volunteer or a leader reads their own records.
"""

from services.activities.contract import statistics as contract
from services.activities.statistics import domain
from services.activities.statistics import repository as repo
from services.chassis.actors import load_actor
from services.chassis.rpc import rpc
from services.chassis.schemas import load, load_id
from services.chassis.scope import Reach

_statistics = contract.ActivityStatisticsSchema()


class StatisticsEntrypoints:
    @rpc
    def activity_statistics(self, center_id, filters, actor):
        """`filters`: {"from", "to"} (StatisticsQuerySchema); NotFound for an unknown center,
        PermissionDenied outside the caller's scope."""
        actor = load_actor(actor)
        center_id = load_id(center_id, "center_id")
        query = domain.period(load(contract.StatisticsQuerySchema, filters or {}))
        reach = Reach(self.centers)
        center_ids = reach.subtree_ids(center_id)  # NotFound for an unknown center, whoever asks
        reach.require_admin_of(actor, center_id)
        with self.db.read() as session:
            figures = repo.figures(session, center_ids, query, contract.TOP_TEAMS)
        return _statistics.dump(domain.statistics(center_id, query, *figures))
