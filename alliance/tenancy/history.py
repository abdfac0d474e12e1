"""Tenant-scoped change history (django-simple-history), see docs/history.md.

django-scopes does not know the `Historical*` models simple-history generates:
left alone, `HistoricalMeeting.objects.all()` and `Meeting.history.all()` would
list every alliance's history. `TenantHistoricalRecords(alliance_path)` gives
the historical model a `ScopedManager` on the same path as the tracked model
(so the scope tripwire, the canary crawl and the snapshots cover history rows
too) and makes `Model.history` go through that scope.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django_scopes import ScopedManager
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_update_with_history, get_history_manager_for_model

from alliance import pagecache

_SCOPED_BASES: dict[str, type[models.Model]] = {}


def _scoped_base(alliance_path: str) -> type[models.Model]:
    """An abstract base whose default manager is scoped on `alliance_path`.

    Abstract, so migrations flatten it away (their bases stay HistoricalChanges
    and models.Model) and nothing needs importing from here.
    """
    if alliance_path not in _SCOPED_BASES:
        name = "ScopedHistory_" + alliance_path.replace("__", "_")
        _SCOPED_BASES[alliance_path] = type(
            name,
            (models.Model,),
            {
                "__module__": __name__,
                "objects": ScopedManager(alliance=alliance_path),
                "Meta": type("Meta", (), {"abstract": True}),
            },
        )
    return _SCOPED_BASES[alliance_path]


class TenantHistoryManager(HistoryManager):
    """`Model.history` / `obj.history`, narrowed to the active scope's alliances."""

    def get_super_queryset(self):
        # The historical model's ScopedManager decides: the scope's alliances, all
        # of them when scopes are disabled, ScopeError when no scope is active.
        return super().get_super_queryset() & self.model._default_manager.all()


_recording: ContextVar[bool] = ContextVar("history_recording", default=True)


@contextmanager
def history_paused():
    """Record nothing inside: loading demo data is nobody's change (load_demo)."""
    token = _recording.set(False)
    try:
        yield
    finally:
        _recording.reset(token)


class TenantHistoricalRecords(HistoricalRecords):
    """HistoricalRecords whose rows are scoped like the tracked model's.

    `alliance_path` is the tracked model's own ScopedManager path; it must go
    through fields the historical model copies (e.g. "meeting__alliance").
    """

    def __init__(self, alliance_path: str = "alliance", **kwargs):
        super().__init__(
            bases=(_scoped_base(alliance_path),),
            history_manager=TenantHistoryManager,
            **kwargs,
        )

    def post_save(self, instance, created, using=None, **kwargs):
        if _recording.get():
            super().post_save(instance, created, using=using, **kwargs)

    def post_delete(self, instance, using=None, **kwargs):
        if _recording.get():
            super().post_delete(instance, using=using, **kwargs)


def history_record(objs, *, by=None) -> None:
    """One "changed" history row per object, for rows a query changed in place.

    For changes that `QuerySet.update()` must make itself (an F() expression);
    `objs` must already hold the new values. `by`: who, when no request is
    active (HistoryRequestMiddleware supplies the signed-in user otherwise).
    """
    objs = list(objs)
    if objs:
        manager = get_history_manager_for_model(type(objs[0]))
        manager.bulk_history_create(objs, update=True, default_user=by)
        pagecache.bump(pagecache.alliance_ids_of(objs))  # the UPDATE sent no signal
        pagecache.bump_members(objs)


def bulk_update_recorded(objs, fields: list[str], *, by=None, manager=None) -> int:
    """`bulk_update(objs, fields)` plus one history row per object, in one transaction.

    Pass only the rows that changed: each one gets a history row. Two queries
    per batch whatever the number of rows (an UPDATE … CASE and an INSERT).
    """
    objs = list(objs)
    if not objs:
        return 0
    pagecache.bump(pagecache.alliance_ids_of(objs))  # bulk_update sends no signal
    pagecache.bump_members(objs)
    return bulk_update_with_history(objs, type(objs[0]), fields, default_user=by, manager=manager)
