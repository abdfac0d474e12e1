"""`make bench`: the production settings, served over plain HTTP on loopback.

Everything that shapes a request's cost (middleware, sessions, cache, static
files, templates) is production's. Only what loopback HTTP needs differs, plus
a bare template view (`bench.urls`) that is the baseline every page is
compared with. `BENCH_SQLITE=1` measures SQLite side by side for comparison:
production itself refuses SQLite, so the database is swapped after the import.
"""

import os

_sqlite_url = os.environ.get("BENCH_SQLITE_URL")
if _sqlite_url:
    # Production checks for PostgreSQL at import; the real database is set below.
    os.environ["DATABASE_URL"] = "postgres://bench@127.0.0.1/unused"

from .production import *  # noqa: E402,F403
from .production import env  # noqa: E402

if _sqlite_url:
    DATABASES = {"default": env.db_url_config(_sqlite_url)}

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
# The load generator and the in-process query counter send plain HTTP.
SECURE_PROXY_SSL_HEADER = None
EMAIL_BACKEND = "bench.null_backend.EmailBackend"
