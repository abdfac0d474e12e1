from django import forms

from .models import Meeting, Registration


class ScheduleFilterForm(forms.Form):
    ROUNDTABLES = "roundtable"

    year = forms.TypedChoiceField(label="Program year", coerce=int, required=False)
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "All kinds"), *Meeting.Kind.choices, (ROUNDTABLES, "Roundtable webinars")],
    )
    format = forms.ChoiceField(
        label="Format", required=False, choices=[("", "All formats"), *Meeting.Format.choices]
    )
    mine = forms.BooleanField(label="Only what I registered for", required=False)

    def __init__(self, *args, program_years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y.pk, y.name) for y in program_years]


class RSVPForm(forms.Form):
    response = forms.ChoiceField(
        choices=Registration.Response.choices, widget=forms.RadioSelect, label="Your answer"
    )

    def __init__(self, *args, meeting: Meeting, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = {
            Meeting.Format.IN_PERSON: {Registration.Response.IN_PERSON},
            Meeting.Format.VIRTUAL: {Registration.Response.VIRTUAL},
            Meeting.Format.HYBRID: {Registration.Response.IN_PERSON, Registration.Response.VIRTUAL},
        }[meeting.format] | {Registration.Response.NOT_ATTENDING}
        self.fields["response"].choices = [
            c for c in Registration.Response.choices if c[0] in allowed
        ]
