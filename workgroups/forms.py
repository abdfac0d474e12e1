import datetime

from django import forms

from .models import Commitment, FocusProposal, Measure
from .periods import period_label
from .services import reading_validate

YES_NO = [("yes", "Yes, we made progress"), ("no", "No progress this period")]


class ReadingForm(forms.Form):
    period_start = forms.TypedChoiceField(label="Period", coerce=lambda v: v)
    numerator = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    denominator = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    achieved = forms.ChoiceField(
        label="Progress", choices=YES_NO, required=False, widget=forms.RadioSelect
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Anything peers should know about this value.",
    )

    def __init__(self, *args, measure: Measure, organization, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure, self.organization = measure, organization
        self.fields["period_start"].choices = [
            (p.isoformat(), period_label(p, measure.period)) for p in reversed(periods)
        ]
        self.fields["period_start"].coerce = _date
        if measure.kind == Measure.Kind.MILESTONE:
            del self.fields["numerator"], self.fields["denominator"]
        else:
            del self.fields["achieved"]
            self.fields["numerator"].label = measure.numerator_label
            if measure.has_denominator:
                self.fields["denominator"].label = measure.denominator_label
            else:
                del self.fields["denominator"]

    def clean(self):
        cleaned = super().clean()
        if "period_start" not in cleaned:
            return cleaned
        achieved = cleaned.get("achieved")
        cleaned["achieved"] = {"yes": True, "no": False}.get(achieved) if achieved else None
        if not self.errors:
            try:
                reading_validate(
                    measure=self.measure,
                    organization=self.organization,
                    period_start=cleaned["period_start"],
                    numerator=cleaned.get("numerator"),
                    denominator=cleaned.get("denominator"),
                    achieved=cleaned["achieved"],
                )
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise forms.ValidationError("Choose a period from the list.") from error


class GoalForm(forms.Form):
    statement = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. “Zero central line infections in every ICU.”",
    )
    measure_name = forms.CharField(max_length=200, label="Measure")
    kind = forms.ChoiceField(choices=[c for c in Measure.Kind.choices if c[0] != "milestone"])
    period = forms.ChoiceField(choices=Measure.Period.choices)
    direction = forms.ChoiceField(choices=Measure.Direction.choices)
    unit = forms.CharField(max_length=60, required=False)
    multiplier = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        initial=1,
        min_value=0,
        help_text="Rates only, e.g. 1000 for “per 1,000 patient days”.",
    )
    baseline_value = forms.DecimalField(max_digits=16, decimal_places=4)
    theoretical_limit = forms.DecimalField(
        max_digits=16, decimal_places=4, help_text="The best the process could ever do."
    )
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = ["status", "evidence"]
        widgets = {"evidence": forms.Textarea(attrs={"rows": 3})}


class ProposalForm(forms.ModelForm):
    class Meta:
        model = FocusProposal
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
