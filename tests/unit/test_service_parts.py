"""A service composed of mixins (one per part) must not have two parts define one name: the
first in the class's order would silently win, and a part would run another part's helper
(a series command once checked the scope of the *activity* with the series' id)."""

import pytest

from services.activities.service import ActivitiesService
from services.volunteers.service import VolunteersService


@pytest.mark.parametrize("service", [ActivitiesService, VolunteersService], ids=lambda s: s.name)
def test_no_two_parts_of_a_service_define_the_same_name(service):
    owners = {}
    for part in service.__mro__[1:]:
        if part is object or part.__module__.startswith(("nameko", "services.chassis")):
            continue
        for name in vars(part):
            if name.startswith("__"):
                continue
            owners.setdefault(name, []).append(part.__name__)
    shared = {name: parts for name, parts in owners.items() if len(parts) > 1}
    assert shared == {}
