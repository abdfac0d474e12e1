import datetime

import factory

from alliance.models import Alliance, ProgramYear

from .base import TenantFactory


class AllianceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alliance
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Alliance {n}")
    short_name = factory.LazyAttribute(lambda o: o.name)
    slug = factory.Sequence(lambda n: f"alliance-{n}")
    contact_email = factory.LazyAttribute(lambda o: f"help@{o.slug}.example")


class ProgramYearFactory(TenantFactory):
    class Meta:
        model = ProgramYear

    alliance = factory.SubFactory(AllianceFactory)
    name = factory.Sequence(lambda n: f"Year {n}")
    starts_on = datetime.date(2020, 10, 1)
    ends_on = datetime.date(2021, 9, 30)
