"""State changes for the tenant core: the collective voice and "Need help?" messages."""

import logging
import time
import uuid
from email.errors import HeaderParseError
from email.headerregistry import Address

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction

from members.models import Membership, Organization, Role, User
from workgroups.models import Workgroup

from .models import Alliance, OutgoingEmail, Publication
from .notifications import outbox
from .notifications.outbox import single_line
from .tenancy.permissions import has_alliance_permission, membership_for

logger = logging.getLogger(__name__)


# Collective voice
# ------------------------------------------------------------------------------


class PublicationError(Exception):
    """A change to a publication that its author or the data does not allow."""


def publication_can_add(*, user: User, alliance: Alliance) -> bool:
    return has_alliance_permission(user, alliance, "publications.add")


def publication_can_manage(*, user: User, alliance: Alliance) -> bool:
    """Staff add publications for anyone and edit any of them."""
    return has_alliance_permission(user, alliance, "publications.manage")


def publication_can_edit(*, user: User, alliance: Alliance, publication: Publication) -> bool:
    """Staff, or one of its authors. Uses prefetched authors when the list has them."""
    if publication.alliance_id != alliance.pk:
        return False
    if publication_can_manage(user=user, alliance=alliance):
        return True
    membership = membership_for(user, alliance)
    return membership is not None and any(
        author.pk == membership.pk for author in publication.author_members.all()
    )


def _check_same_alliance(
    *,
    alliance: Alliance,
    authors: list[Membership],
    organizations: list[Organization],
    workgroup: Workgroup | None,
) -> None:
    # The form offers only this alliance's rows; this holds for any other caller too.
    foreign = [row for row in [*authors, *organizations] if row.alliance_id != alliance.pk]
    if workgroup is not None and workgroup.alliance_id != alliance.pk:
        foreign.append(workgroup)
    if foreign:
        raise PublicationError("Authors, organizations and workgroup must be of this alliance.")


@transaction.atomic
def publication_create(
    *,
    alliance: Alliance,
    user: User,
    fields: dict,
    authors: list[Membership],
    organizations: list[Organization],
) -> Publication:
    """Add to the collective voice. A member (not staff) is always among its authors.

    `fields`: kind, title, published_on, venue, url, file, summary, workgroup.
    """
    if not publication_can_add(user=user, alliance=alliance):
        raise PublicationError("You cannot add publications to this alliance.")
    by = membership_for(user, alliance)
    authors = _authors_including(user=user, alliance=alliance, by=by, authors=authors)
    _check_same_alliance(
        alliance=alliance,
        authors=authors,
        organizations=organizations,
        workgroup=fields.get("workgroup"),
    )
    publication = Publication(alliance=alliance, added_by=by, **fields)
    publication.full_clean()
    publication.save()
    publication.author_members.set(authors)
    publication.author_organizations.set(organizations)
    return publication


@transaction.atomic
def publication_update(
    *,
    alliance: Alliance,
    publication: Publication,
    user: User,
    fields: dict,
    authors: list[Membership],
    organizations: list[Organization],
) -> Publication:
    """Change a publication: staff, or one of its authors (who stays one)."""
    if not publication_can_edit(user=user, alliance=alliance, publication=publication):
        raise PublicationError("Only its authors and the alliance staff can change this.")
    by = membership_for(user, alliance)
    authors = _authors_including(user=user, alliance=alliance, by=by, authors=authors)
    _check_same_alliance(
        alliance=alliance,
        authors=authors,
        organizations=organizations,
        workgroup=fields.get("workgroup"),
    )
    for name, value in fields.items():
        setattr(publication, name, value)
    publication.full_clean()
    publication.save()
    publication.author_members.set(authors)
    publication.author_organizations.set(organizations)
    return publication


def _authors_including(
    *, user: User, alliance: Alliance, by: Membership, authors: list[Membership]
) -> list[Membership]:
    """A member may only publish (or edit) as one of the authors; staff for anyone."""
    if publication_can_manage(user=user, alliance=alliance) or any(a.pk == by.pk for a in authors):
        return list(authors)
    return [*authors, by]


# Need help?
# ------------------------------------------------------------------------------

NEED_HELP_PER_MEMBER_PER_HOUR = 5
NEED_HELP_PER_ALLIANCE_PER_HOUR = 20
_HOUR = 3600
REPLY_TO_MAX_LENGTH = OutgoingEmail._meta.get_field("reply_to").max_length


class RateLimited(Exception):
    """Too many messages this hour; nothing was sent."""


def need_help_recipients(*, alliance: Alliance, sender: User) -> list[str]:
    """The alliance's contact address and its staff's, once each (not the sender's own)."""
    staff_emails = Membership.objects.filter(
        alliance=alliance, role=Role.ALLIANCE_STAFF, is_active=True
    ).values_list("user__email", flat=True)
    recipients, seen = [], {sender.email.strip().lower()}
    for email in [alliance.contact_email, *staff_emails]:
        normalized = (email or "").strip().lower()
        if normalized and normalized not in seen:
            seen.add(normalized)
            recipients.append(email.strip())
    return recipients


def _count_and_check(*, alliance: Alliance, sender: User) -> None:
    """Count this message against the hourly limits; RateLimited if over either.

    Fixed hourly windows in the shared cache: INCR is atomic in Redis, so
    concurrent requests cannot both slip under a limit. A cache outage must
    not stop someone asking for help: the limit then fails open.
    """
    window = int(time.time() // _HOUR)
    limits = {
        f"need-help:user:{sender.pk}:{window}": NEED_HELP_PER_MEMBER_PER_HOUR,
        f"need-help:alliance:{alliance.pk}:{window}": NEED_HELP_PER_ALLIANCE_PER_HOUR,
    }
    try:
        counts = {}
        for key in limits:
            cache.add(key, 0, timeout=_HOUR)
            counts[key] = cache.incr(key)
    except Exception:  # any cache failure: send anyway, and say so in the log
        logger.warning(
            "Need help: rate limit not checked (cache unavailable) for user %s",
            sender.pk,
            exc_info=True,
        )
        return
    if any(counts[key] > limit for key, limit in limits.items()):
        raise RateLimited


def _mailbox(name: str, email: str) -> str:
    """'Name <address>' with the name on one line and quoted as needed.

    The outbox keeps Reply-To in 300 characters: a name that would not fit is left out.
    """
    try:
        mailbox = str(Address(display_name=single_line(name)[:80], addr_spec=email))
    except (ValueError, HeaderParseError):
        return email
    return mailbox if len(mailbox) <= REPLY_TO_MAX_LENGTH else email


def need_help_send(
    *, alliance: Alliance, user: User, subject: str, message: str
) -> list[OutgoingEmail]:
    """Mail a member's question to the alliance's contact and staff, and a copy to the member.

    Replies to the staff's message reach the member; replies to the copy reach
    the alliance's contact. Raises RateLimited (nothing queued) when over the limit.
    """
    sender = membership_for(user, alliance)
    if sender is None:
        raise PermissionDenied("Only members of the alliance can ask its staff for help.")
    _count_and_check(alliance=alliance, sender=user)
    context = {
        "alliance": alliance,
        "sender": sender,
        "sender_name": user.full_name or user.email,
        "sender_email": user.email,
        "subject": single_line(subject),
        "message": message,
    }
    # One key for every row of this message: staff and copy rows belong together.
    key = uuid.uuid4().hex
    rows = []
    with transaction.atomic():
        for recipient in need_help_recipients(alliance=alliance, sender=user):
            rows.append(
                outbox.enqueue(
                    kind="need_help",
                    recipient=recipient,
                    template="alliance/email/need_help",
                    context=context,
                    alliance=alliance,
                    about=sender,
                    key=key,
                    reply_to=_mailbox(user.full_name, user.email),
                )
            )
        rows.append(
            outbox.enqueue(
                kind="need_help_copy",
                recipient=user.email,
                template="alliance/email/need_help_copy",
                context=context,
                alliance=alliance,
                about=sender,
                key=key,
                reply_to=_mailbox(
                    alliance.contact_name or alliance.short_name, alliance.contact_email
                ),
            )
        )
    return [row for row in rows if row is not None]
