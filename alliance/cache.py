"""The Redis cache, made to survive a Redis outage.

Sessions (cached_db), rate limits and page caches use Django's cache. Django's
own Redis backend raises when Redis is down, which would turn every request into
a server error. Here an outage is a cache miss instead: reads return the
default, writes are dropped, and each failure is logged. What that costs while
Redis is down: sessions are read from the database (cached_db), and rate limits
are not counted — the site stays up and says so in the log.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _outage(operation: str, error: Exception) -> None:
    logger.warning("Cache unavailable during %s (%s); carrying on without it.", operation, error)


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every call, which fills a table of
    response callbacks each time: about 0.3 ms, three times per cached page. A
    client only borrows connections from its pool, so one can serve every call
    (a forked process gets fresh connections from the pool, which checks its pid).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _outage("add", error)
            # "Added": callers use add() as a lock (allauth's rate limits) and
            # must not wait for, or be refused by, a cache that is not there.
            return True

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _outage("get", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _outage("set", error)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            _outage("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            _outage("delete", error)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _outage("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            _outage("has_key", error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            _outage("incr", error)
            # As for a missing key: callers that count start again.
            raise ValueError(f"Key {key!r} not found (cache unavailable).") from error

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            _outage("set_many", error)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            _outage("delete_many", error)

    def clear(self):
        try:
            return super().clear()
        except RedisError as error:
            _outage("clear", error)
            return False
