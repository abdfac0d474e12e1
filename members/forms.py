from django import forms
from django.contrib.humanize.templatetags.humanize import ordinal

from alliance.fields import TIME_ZONE_CHOICES
from alliance.models import Alliance
from alliance.widgets import FastSelect

from .models import DigestPreference, Membership, Organization, Role, User


class SignupForm(forms.Form):
    """Extra fields of allauth's signup (open only with an invitation)."""

    full_name = forms.CharField(max_length=200, label="Full name")

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "All roles"), *Role.choices]
    )
    organization = forms.ModelChoiceField(
        label="Organization",
        required=False,
        queryset=Organization.objects.none(),
        empty_label="All organizations",
        widget=FastSelect,  # hundreds of organizations in a large alliance
    )

    def __init__(self, *args, alliance, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this alliance's organizations are offered, and accepted.
        self.fields["organization"].queryset = Organization.objects.filter(
            alliance=alliance, is_active=True
        )


class ProfileForm(forms.ModelForm):
    title = forms.CharField(
        max_length=200, required=False, help_text="Your title in this alliance's directory."
    )
    time_zone = forms.ChoiceField(
        choices=[("", "The alliance's time zone"), *TIME_ZONE_CHOICES],
        required=False,
        help_text="Meeting times are shown in this zone too.",
    )

    class Meta:
        model = User
        fields = ["full_name", "phone", "time_zone", "photo"]


def digest_schedule_words(alliance: Alliance, cadence: str) -> str:
    """When the alliance sends a cadence: "every Monday at 07:00, America/New_York time"."""
    at = f"at {alliance.digest_hour:02d}:00, {alliance.time_zone} time"
    if cadence == Alliance.DigestCadence.WEEKLY:
        weekday = dict(Alliance._meta.get_field("digest_weekday").choices)[alliance.digest_weekday]
        return f"every {weekday} {at}"
    return f"on the {ordinal(alliance.digest_day_of_month)} of every month {at}"


class EmailPreferencesForm(forms.Form):
    """A member's digest and reminders in one alliance; the labels say what each means."""

    digest = forms.ChoiceField(
        label="Progress digest", choices=DigestPreference.choices, widget=forms.RadioSelect
    )
    reminders = forms.BooleanField(
        label="Reminders before meetings and roundtables, and reminders to answer an invitation",
        required=False,
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        kwargs.setdefault(
            "initial", {"digest": membership.digest, "reminders": membership.reminders}
        )
        super().__init__(*args, **kwargs)
        alliance = membership.alliance
        # The model's "default" means: what the alliance sends CEOs (only CEOs).
        if alliance.digest_cadence == Alliance.DigestCadence.OFF:
            default = "As the alliance sends it: no digests at the moment"
        elif membership.role == Role.CEO:
            words = digest_schedule_words(alliance, alliance.digest_cadence)
            default = f"As the alliance sends it to CEOs: {words}"
        else:
            default = "As the alliance sends it: to CEOs only, so none for you"
        self.fields["digest"].choices = [
            (DigestPreference.DEFAULT, default),
            (
                DigestPreference.WEEKLY,
                f"Weekly, {digest_schedule_words(alliance, Alliance.DigestCadence.WEEKLY)}",
            ),
            (
                DigestPreference.MONTHLY,
                f"Monthly, {digest_schedule_words(alliance, Alliance.DigestCadence.MONTHLY)}",
            ),
            (DigestPreference.OFF, "None"),
        ]
        self.fields["digest"].help_text = (
            "Your organization's progress toward the workgroups' aims, new run-chart signals, "
            "and the coming meetings and roundtables. Skipped when there is nothing new."
        )
        self.fields["reminders"].help_text = (
            "For the meetings and roundtables you registered for, and invitations you have "
            "not answered yet."
        )
