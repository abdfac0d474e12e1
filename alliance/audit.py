"""The audit log: sign-ins, failed sign-ins, MFA changes, permission changes,
exports and imports, each with the user, the alliance, the client's IP and the
UTC time (`AuditEvent`; superusers read it in the admin). See docs/accounts.md.

Recorded by signals, so every path that does these things is covered: allauth's
views and the admin's, services, the shell. The request (for the IP and the
user) comes from `AuditRequestMiddleware`; outside a request there is none.
"""

import logging
from contextvars import ContextVar

from allauth.account.adapter import get_adapter
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from import_export.signals import post_export, post_import

logger = logging.getLogger(__name__)

_request: ContextVar = ContextVar("audit_request", default=None)


class AuditRequestMiddleware:
    """Makes the request known to the signal handlers below while it runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _client_ip(request) -> str | None:
    # allauth's reading: REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies are configured.
    if request is None or not hasattr(request, "META"):
        return None
    try:
        return get_adapter(request).get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):  # no address, or a proxy miscounted
        return None


def record(
    kind: str, *, user=None, alliance=None, alliance_id=None, detail: str = "", request=None
) -> None:
    """One audit row. An audit failure is logged, never the caller's failure."""
    from alliance.models import AuditEvent

    request = request if request is not None else _request.get()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if alliance is not None:
        alliance_id = alliance.pk
    elif alliance_id is None and request is not None:
        alliance_id = getattr(getattr(request, "alliance", None), "pk", None)
    try:
        # A savepoint: a failed write must not break the caller's transaction.
        with transaction.atomic():
            AuditEvent.objects.create(
                kind=kind,
                user=user,
                user_email=getattr(user, "email", "") if user is not None else "",
                alliance_id=alliance_id,
                ip=_client_ip(request),
                detail=detail[:500],
            )
    except Exception:
        logger.exception("Could not write the audit event %s (%s).", kind, detail)


# Sign-in and MFA
# ------------------------------------------------------------------------------


def _signed_in(sender, request, user, **kwargs):
    record("sign_in", user=user, request=request)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in `credentials`.
    tried = credentials.get("email") or credentials.get("username") or ""
    record("sign_in_failed", detail=f"account tried: {tried}", request=request)


def _mfa(kind: str):
    def handler(sender, request, user, authenticator=None, **kwargs):
        what = authenticator.get_type_display() if authenticator is not None else ""
        record(kind, user=user, detail=what, request=request)

    return handler


# Permission changes
# ------------------------------------------------------------------------------

# What each model's rows grant: a change in one of these fields is audited.
PERMISSION_FIELDS = {
    "members.Membership": ("role", "is_active"),
    "members.User": ("is_staff", "is_superuser", "is_active"),
}


def _granted(instance) -> dict:
    return {name: getattr(instance, name) for name in PERMISSION_FIELDS[instance._meta.label]}


def _remember_granted(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a save: what the row granted until now (one query, on saves only;
    remembering it at every load would tax every page and sweep)."""
    fields = PERMISSION_FIELDS[instance._meta.label]
    instance._audit_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(fields):
        return  # e.g. last_login at sign-in
    # The base manager is unscoped: this reads back the very row being saved.
    instance._audit_before = sender._base_manager.filter(pk=instance.pk).values(*fields).first()


def _permission_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, "_audit_before", None)
    if not created and before is None:
        return
    after = _granted(instance)
    changes = [
        f"{name}: {before.get(name) if before else None} → {value}"
        for name, value in after.items()
        if created or before[name] != value
    ]
    if not changes:
        return
    if instance._meta.label == "members.Membership":
        # The user's email when it is loaded already: a bulk admin action must
        # not cost a query per row to describe it.
        user = instance._state.fields_cache.get("user")
        subject = user.email if user is not None else f"user #{instance.user_id}"
        alliance_id = instance.alliance_id
        prefix = "new membership; " if created else ""
    else:
        subject, alliance_id = instance.email, None
        prefix = "new account; " if created else ""
    record(
        "permission_changed",
        alliance_id=alliance_id,
        detail=f"{subject}: {prefix}{', '.join(changes)}",
    )


def _groups_changed(sender, instance, action, pk_set, model, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return  # Django signals an add of groups the user is in already
    names = ", ".join(
        sorted(model.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    )
    verb = {"post_add": "added to", "post_remove": "removed from", "post_clear": "removed from all"}
    record("permission_changed", detail=f"{instance}: {verb[action]} groups {names}".strip())


# Exports and imports (django-import-export; the CSV exports call `record`)
# ------------------------------------------------------------------------------


def _exported(sender, model, **kwargs):
    record("export", detail=f"{model._meta.verbose_name_plural} (admin export)")


def _imported(sender, model, **kwargs):
    record("import", detail=f"{model._meta.verbose_name_plural} (admin import)")


def connect_signals() -> None:
    from members.models import Membership

    user_model = get_user_model()
    user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    mfa_signals.authenticator_added.connect(
        _mfa("mfa_added"), dispatch_uid="audit-mfa-added", weak=False
    )
    mfa_signals.authenticator_removed.connect(
        _mfa("mfa_removed"), dispatch_uid="audit-mfa-removed", weak=False
    )
    mfa_signals.authenticator_reset.connect(
        _mfa("mfa_reset"), dispatch_uid="audit-mfa-reset", weak=False
    )
    for model in (Membership, user_model):
        pre_save.connect(
            _remember_granted, sender=model, dispatch_uid=f"audit-before-{model._meta.label}"
        )
        post_save.connect(
            _permission_saved, sender=model, dispatch_uid=f"audit-save-{model._meta.label}"
        )
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid="audit-groups"
    )
    post_export.connect(_exported, dispatch_uid="audit-export")
    post_import.connect(_imported, dispatch_uid="audit-import")
