"""Configuration: nameko's global config, loaded from deploy/config/service.yml where every
value is `${ENV_VAR:default}`, so that one image runs anywhere by environment alone."""

import nameko

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def setting(key, default=None):
    value = nameko.config.get(key)
    return default if value in (None, "") else value


def amqp_uri():
    return setting("AMQP_URI", DEFAULT_AMQP_URI)
