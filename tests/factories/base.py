import factory
from django_scopes import scope


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates a tenant row inside its own alliance's scope, as app code must.

    The alliance is the `alliance` argument, or a parent's (e.g. a workgroup's).
    """

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        alliance = kwargs.get("alliance") or next(
            value.alliance for value in kwargs.values() if hasattr(value, "alliance_id")
        )
        with scope(alliance=alliance):
            return super()._create(model_class, *args, **kwargs)
