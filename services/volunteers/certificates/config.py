"""What the certificates part needs of the service's configuration, read once per process: the
signing keys (signing.py) and the font (pdf.py). A missing or unusable key or font stops the
service at start, never at the first certificate."""

from nameko.extensions import DependencyProvider

from services.volunteers.certificates import pdf, signing
from services.volunteers.secrets import configured


class CertificateConfig(DependencyProvider):
    """`self.certificate_config` in a worker: `.keys` (a signing.KeyRing), `.font` (a pdf.CertificateFont)."""

    def setup(self):
        self.keys = signing.keyring_from_settings(
            configured(signing.KEY_VARIABLE),
            configured(signing.KEY_FILE_VARIABLE),
            configured(signing.PREVIOUS_KEYS_VARIABLE),
        )
        self.font = pdf.CertificateFont(configured(pdf.FONT_VARIABLE) or pdf.DEFAULT_FONT)

    def get_dependency(self, worker_ctx):
        return self
