"""The embedded default: SQLite, the filesystem Celery transport, mail to files."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-development-only-not-secret-0123456789abcdefghij")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Off by default locally so the demo staff reach the admin at once; set
# ALLIANCE_REQUIRE_STAFF_MFA=true to try the production behaviour.
ALLIANCE_REQUIRE_STAFF_MFA = env.bool("ALLIANCE_REQUIRE_STAFF_MFA", default=False)
# Static files straight from the apps and packages; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
