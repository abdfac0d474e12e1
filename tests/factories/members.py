import factory
from allauth.account.models import EmailAddress

from members.models import Membership, Organization, Role, User

from .alliance import AllianceFactory
from .base import TenantFactory

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """allauth refuses unverified addresses; pass verified=False to test that."""
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )


class OrganizationFactory(TenantFactory):
    class Meta:
        model = Organization

    alliance = factory.SubFactory(AllianceFactory)
    name = factory.Sequence(lambda n: f"Organization {n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    alliance = factory.SubFactory(AllianceFactory)
    organization = factory.LazyAttribute(
        lambda o: (
            None if o.role == Role.ALLIANCE_STAFF else OrganizationFactory(alliance=o.alliance)
        )
    )
    role = Role.CEO
