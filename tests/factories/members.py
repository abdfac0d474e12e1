import datetime
import secrets

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from members.models import Invitation, Membership, Organization, Role, Speaker, User

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


class SpeakerFactory(TenantFactory):
    class Meta:
        model = Speaker

    alliance = factory.SubFactory(AllianceFactory)
    name = factory.Sequence(lambda n: f"Speaker {n}")
    title = "Senior Fellow"
    affiliation = "Institute for Improvement"
    bio = "Leads improvement work."


class InvitationFactory(TenantFactory):
    class Meta:
        model = Invitation

    alliance = factory.SubFactory(AllianceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Invitee {n}")
    organization = factory.LazyAttribute(lambda o: OrganizationFactory(alliance=o.alliance))
    role = Role.CEO
    secret_hash = factory.LazyFunction(lambda: secrets.token_hex(32))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=14))
