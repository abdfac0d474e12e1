"""The sign-in time, from which SessionAgeMiddleware counts the absolute age."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from alliance.tenancy.middleware import SIGNED_IN_AT


@receiver(user_logged_in)
def record_sign_in_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(timezone.now().timestamp())
