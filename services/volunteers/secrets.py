"""The keys of the volunteers service, shared by every worker of one process: the cipher of
personal data (privacy.py) and the certificate signing key (certificates)."""

import base64
import os

from nameko.extensions import DependencyProvider

from services.chassis.config import setting
from services.volunteers.privacy import DATA_KEYS_VARIABLE, LOOKUP_KEY_VARIABLE, FieldCipher, keys_from_environment

DEFAULT_COUNTY_CODE = "JZXY"  # 晋中 昔阳: the demo county; VOLUNTEERS_COUNTY_CODE sets a county's own


def configured(name):
    """A setting from nameko's config (deploy/config/service.yml, tests), else the environment."""
    return setting(name) or os.environ.get(name, "")


class PersonalData(DependencyProvider):
    """`self.personal_data` in a worker: `.cipher` (a FieldCipher) and `.county_code`. A
    missing or malformed key stops the service at start, never at the first registration."""

    def setup(self):
        environ = {name: configured(name) for name in (DATA_KEYS_VARIABLE, LOOKUP_KEY_VARIABLE)}
        self.cipher = FieldCipher(*keys_from_environment(environ))
        self.county_code = configured("VOLUNTEERS_COUNTY_CODE") or DEFAULT_COUNTY_CODE

    def get_dependency(self, worker_ctx):
        return self


def new_secrets():
    """Fresh keys for a new installation ({variable: value}): `make run` keeps them in the
    data folder; an operator makes their own the same way (docs/operations.md)."""

    def key():
        return base64.b64encode(os.urandom(32)).decode("ascii")

    return {DATA_KEYS_VARIABLE: f"k1:{key()}", LOOKUP_KEY_VARIABLE: key()}
