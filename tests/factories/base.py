import factory
from django_scopes import scope


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates a tenant row inside its own alliance's scope, as app code must."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with scope(alliance=kwargs["alliance"]):
            return super()._create(model_class, *args, **kwargs)
