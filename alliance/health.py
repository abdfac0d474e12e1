"""What `/healthz` reports, for monitoring (the outbox: `manage.py check_outbox`).

The database is what the site cannot run without: when it fails, /healthz
answers 503 so a load balancer takes the instance out. The cache and the broker
are reported separately and only make the status "degraded" (200): the site
keeps answering without them (alliance/cache.py) and the outbox holds the mail
until the broker is back (docs/operations.md).
"""

import secrets

from django.core.cache import cache
from django.db import connection

BROKER_TIMEOUT_SECONDS = 2


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _cache() -> str:
    # The resilient cache turns an outage into a miss: a value written and not
    # read back is the outage.
    key, token = "healthz:probe", secrets.token_hex(8)
    cache.set(key, token, timeout=30)
    return "ok" if cache.get(key) == token else "error: unavailable"


def _broker() -> str:
    from alliance.celery_app import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return "ok"


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


def health() -> tuple[str, dict[str, str]]:
    """("ok" | "degraded" | "error", {check: "ok" or "error: …"})."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # any failure is the answer, not a crash
            results[name] = f"error: {error.__class__.__name__}"
    if results["database"] != "ok":
        return "error", results
    if any(value != "ok" for value in results.values()):
        return "degraded", results
    return "ok", results
