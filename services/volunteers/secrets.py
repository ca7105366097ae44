"""The keys of the volunteers service: the cipher of personal data (privacy.py), shared by
every worker of one process, and fresh keys for a new installation (the certificate
signing key is read by certificates/)."""

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.extensions import DependencyProvider

from services.chassis.config import setting
from services.volunteers.privacy import DATA_KEYS_VARIABLE, LOOKUP_KEY_VARIABLE, FieldCipher, keys_from_environment

CERTIFICATE_KEY_VARIABLE = "VOLUNTEERS_CERTIFICATE_KEY"  # Ed25519, PEM: signs certificates
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

    signing_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        DATA_KEYS_VARIABLE: f"k1:{key()}",
        LOOKUP_KEY_VARIABLE: key(),
        CERTIFICATE_KEY_VARIABLE: signing_key.decode("ascii"),
    }
