from services.chassis.migrations import run_env
from services.volunteers.service import VolunteersService

run_env(VolunteersService.db.metadata)
