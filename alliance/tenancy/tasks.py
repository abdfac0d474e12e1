"""The base class of every tenant Celery task."""

import logging

from celery import Task
from django_scopes import scope

logger = logging.getLogger(__name__)


class TenantTask(Task):
    """Runs a task inside its alliance's scope.

    Called as `task.delay(alliance_id, *ids)`: arguments are JSON ids, never
    model instances. The task function receives the loaded Alliance first.
    The scope is a context manager, so it never outlives the task.
    """

    def __call__(self, alliance_id, *args, **kwargs):
        from alliance.models import Alliance

        alliance = Alliance.objects.filter(pk=alliance_id).first()
        if alliance is None:
            logger.error("%s: alliance %r does not exist; nothing done.", self.name, alliance_id)
            return None
        with scope(alliance=alliance):
            return super().__call__(alliance, *args, **kwargs)
