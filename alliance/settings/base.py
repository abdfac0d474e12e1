"""Settings shared by every environment; each value comes from the environment.

The sections follow cookiecutter-django. `local.py`, `test.py` and
`production.py` import this module and override what differs.
"""

from datetime import timedelta
from pathlib import Path

import environ
import xstatic.pkg.bootstrap
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# Absolute base used for links in email and calendar feeds (no request there).
SITE_BASE_URL = env("SITE_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
PORTAL_NAME = env("PORTAL_NAME", default="Alliance portal")

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A connection left broken by a database restart is replaced, not reused.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one file locally: WAL lets readers
    # run beside a writer and IMMEDIATE avoids "database is locked" upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    # django.contrib.admin, with the portal's site (alliance/admin_site.py).
    "alliance.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "import_export",
    "simple_history",
]
LOCAL_APPS = [
    "alliance.apps.AllianceConfig",
    "members.apps.MembersConfig",
    "workgroups.apps.WorkgroupsConfig",
    "sessions.apps.MeetingsConfig",
    "roundtables.apps.RoundtablesConfig",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email is the login; nobody signs in before verifying it.
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Signup is open only to someone holding a valid invitation (members.adapters).
ACCOUNT_SIGNUP_FORM_CLASS = "members.forms.SignupForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
# Changing the email address (and, in allauth always, MFA) asks for the
# password again unless it was re-entered in the last 5 minutes.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# The client's address for rate limits: REMOTE_ADDR unless the portal sits
# behind this many proxies that append to X-Forwarded-For (a client can write
# the header itself, so it is not trusted by default).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PORTAL_NAME}] "
ACCOUNT_RATE_LIMITS = {
    # QUALITY.md: 5 failures per account per 5 minutes; 429 after 10 per IP a minute.
    "login": "10/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "reset_password": "10/m/ip,3/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = PORTAL_NAME
# Staff and /admin/ require a TOTP authenticator before any staff page.
ALLIANCE_REQUIRE_STAFF_MFA = env.bool("ALLIANCE_REQUIRE_STAFF_MFA", default=True)

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # The audit log's signal handlers read the request (IP, user) from here.
    "alliance.audit.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After authentication: history rows record the signed-in user as "who".
    "simple_history.middleware.HistoryRequestMiddleware",
    "alliance.tenancy.middleware.SessionAgeMiddleware",
    "alliance.tenancy.middleware.StaffMFARequiredMiddleware",
    # Last, so that the view *and* the template render run inside the scope.
    "alliance.tenancy.middleware.TenantScopeMiddleware",
]

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
]
# Uploaded files are private to an alliance: they are served only by views
# that check membership, never from a public MEDIA_URL.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alliance.context_processors.portal",
            ],
        },
    },
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# CACHES
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, but an outage is a miss, not a 500.
            "BACKEND": "alliance.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # A cache outage must not hang a request: fail fast instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long a member's rendered page may be served again while nothing in its
# alliance changed (alliance/pagecache.py); 0 renders every request.
MEMBER_PAGE_CACHE_SECONDS = env.int("MEMBER_PAGE_CACHE_SECONDS", default=60)

# SECURITY
# ------------------------------------------------------------------------------
# Sessions are read from the cache (Redis in production) and kept in the
# database, so a cache flush logs nobody out and logout still kills the key.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# 12 hours absolute from sign-in, whatever the session's own expiry says
# (SessionAgeMiddleware).
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
# Staff are also signed out after this long without a request.
STAFF_IDLE_MINUTES = env.int("STAFF_IDLE_MINUTES", default=30)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# EMAIL
# ------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
if "EMAIL_FILE_PATH" in _email and not Path(_email["EMAIL_FILE_PATH"]).is_absolute():
    # django-environ drops the leading "/" of filemail:///absolute/path.
    _email["EMAIL_FILE_PATH"] = "/" + _email["EMAIL_FILE_PATH"]
vars().update(_email)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{PORTAL_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A hung SMTP server must not hold a worker: give up and retry later.
EMAIL_TIMEOUT = 10

# CELERY
# ------------------------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's filesystem transport, which
# needs no server yet still lets a real worker and beat run beside the web.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # Broadcast (worker control) exchanges; by default a "control" folder in
        # whatever directory the worker started from.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
else:
    # A broker outage must not hold a web request: give up publishing quickly
    # (the outbox sweep sends what could not be queued).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it finished; a killed worker's task returns
# to the queue. Tasks must therefore be idempotent (the outbox makes mail so).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The worker imports these too: autodiscovery finds only `<app>.tasks` modules.
CELERY_IMPORTS = ["alliance.notifications.tasks"]
# Periodic jobs are added by the apps that own them (see docs/email-and-tasks.md).
CELERY_BEAT_SCHEDULE: dict = {
    # Re-sends what the task queued on commit did not (broker down, worker
    # killed, temporary SMTP error). A run not started within the minute is
    # dropped: the next one does the same work.
    "notifications.sweep_outbox": {
        "task": "notifications.sweep_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Reminders and RSVP nudges are computed from the rows each time (no ETA
    # tasks): a late or doubled run queues nothing twice (the outbox is unique).
    "notifications.dispatch_reminders": {
        "task": "notifications.dispatch_reminders",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Progress digests: due from each alliance's day and hour (its own zone) for
    # a day, so an hour missed is caught up; the outbox key makes a period's
    # digest go once, however often this runs.
    "notifications.send_digests": {
        "task": "notifications.send_digests",
        "schedule": crontab(minute=0),
        "options": {"expires": 55 * 60},
    },
}

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# ADMIN
# ------------------------------------------------------------------------------
ADMIN_URL = env("ADMIN_URL", default="admin/")
# An import either saves every row or none (django-import-export).
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# MEMBERS
# ------------------------------------------------------------------------------
INVITATION_VALID_DAYS = 14
