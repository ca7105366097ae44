from services.activities.models import all_tables
from services.chassis.migrations import run_env

run_env(all_tables())
