import datetime

import factory
from django.core.files.base import ContentFile

from alliance.models import OutgoingEmail, Publication, Resource

from .alliance import AllianceFactory
from .base import TenantFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class ResourceFactory(TenantFactory):
    class Meta:
        model = Resource

    alliance = factory.SubFactory(AllianceFactory)
    title = factory.Sequence(lambda n: f"Resource {n}")
    kind = Resource.Kind.PROSPECTUS
    file = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="prospectus.pdf"))


class PublicationFactory(TenantFactory):
    class Meta:
        model = Publication
        skip_postgeneration_save = True

    alliance = factory.SubFactory(AllianceFactory)
    kind = Publication.Kind.REPORT
    title = factory.Sequence(lambda n: f"Publication {n}")
    published_on = datetime.date(2021, 3, 1)
    venue = "Health Affairs Blog"
    url = factory.Sequence(lambda n: f"https://journal.example.org/articles/{n}")


class OutgoingEmailFactory(TenantFactory):
    class Meta:
        model = OutgoingEmail

    alliance = factory.SubFactory(AllianceFactory)
    kind = "need_help"
    object_ref = factory.Sequence(lambda n: f"alliance.test:{n}")
    recipient = factory.Sequence(lambda n: f"recipient{n}@example.org")
    from_email = "portal@example.org"
    subject = factory.Sequence(lambda n: f"Subject {n}")
    text_body = "Hello."
    html_body = "<p>Hello.</p>"
