"""Settings for pytest. DATABASE_URL and REDIS_URL choose real services in CI."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DEBUG = False
# Hashing dominates test time; the hasher is not what is under test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLIANCE_REQUIRE_STAFF_MFA = True
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="memory://")
# A task runs in the test's own process when it is queued, so mail queued on
# commit is delivered (to mail.outbox) when the test runs on_commit callbacks
# (pytest-django's django_capture_on_commit_callbacks(execute=True)), and a
# task's error fails the test.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Static files straight from the apps and packages; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# django-zeal: an N+1 query during a test request raises NPlusOneError.
INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
MIDDLEWARE = [*MIDDLEWARE, "zeal.middleware.zeal_middleware"]
ZEAL_RAISE = True
# allauth looks up the same EmailAddress more than once while verifying a
# login; that is inside the library, not a page of ours.
ZEAL_ALLOWLIST = [{"model": "account.EmailAddress", "field": "*"}]
