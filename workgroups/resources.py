"""Staff import and export of readings in the admin (django-import-export, CSV and XLSX).

One file may hold readings of several measures: each row names its organization
(by name) and its measure (by name or id), both looked up in the import's alliance
only, so another alliance's name or id is a row error. The values are checked with
the member upload's parsers (`workgroups.imports`) and `services.reading_validate`,
and saved by `services.reading_save`, so an admin import follows exactly the rules
of the data entry page and keeps a correction's old values as a revision.

All or nothing, as for members (`members.resources`): the preview is a rolled-back
dry run, "Confirm import" is offered only when every row is valid, and the confirmed
import is one transaction that is rolled back if any row fails after all. Line
numbers are the file's (the header is line 1; for a workbook, the sheet's row).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from import_export.fields import Field
from import_export.widgets import Widget

from alliance.models import Alliance
from members.resources import (
    AllianceResource,
    OrganizationNameWidget,
    TextWidget,
    YesNoWidget,
    _cell,
)

from . import services
from .imports import MAX_NOTE, MAX_ROWS, parse_achieved, parse_number, parse_period
from .models import Measure, Reading
from .periods import period_label


def _text(value) -> str:
    """A cell as text; a workbook's numbers and dates as a person would type them."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # 48000.0 → "48000", 0.1 → "0.1" (repr keeps the digits the sheet shows).
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return _cell(value)


def _number_text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


class MeasureWidget(Widget):
    """A measure of the import's alliance, by id or by name (exact, else any case)."""

    def __init__(self, alliance: Alliance | None = None):
        super().__init__()
        self.alliance = alliance
        self._found: dict[str, tuple[Measure | None, str]] = {}

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            raise ValueError("measure is empty: give its name or its id")
        if text not in self._found:
            self._found[text] = self._lookup(text)
        measure, problem = self._found[text]
        if measure is None:
            raise ValueError(problem)
        return measure

    def _lookup(self, text: str) -> tuple[Measure | None, str]:
        if self.alliance is None or "\x00" in text:
            return None, f"no measure named '{text}' in this alliance"
        # Filtered by the import's alliance explicitly: a staff user of several
        # alliances has all of them in scope, and must reach only this one's rows.
        # The workgroup's program year: reading_validate reads it for every row.
        measures = Measure.objects.filter(alliance=self.alliance).select_related(
            "workgroup__program_year"
        )
        if text.isdigit():
            found = measures.filter(pk=int(text)).first()
            if found is not None:
                return found, ""
        matches = list(measures.filter(name=text)[:2]) or list(
            measures.filter(name__iexact=text)[:2]
        )
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, (
                f"more than one measure is named '{text}' in this alliance: give the "
                "measure's id instead (the first column of Workgroups › Measures)"
            )
        if text.isdigit():
            return None, f"no measure with id {text} in this alliance"
        return None, f"no measure named '{text}' in this alliance"

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.name


class PeriodWidget(Widget):
    """Exported as the period's first day (2021-03-01), which the import reads back."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else value.isoformat()


class DecimalTextWidget(Widget):
    """Numbers without trailing zeros (2, not 2.0000); native numbers in a workbook."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if kwargs.get("force_native_type"):
            return int(value) if value == value.to_integral_value() else float(value)
        return _number_text(value)


class ReadingResource(AllianceResource):
    organization = Field(
        attribute="organization", column_name="organization", widget=OrganizationNameWidget()
    )
    measure = Field(attribute="measure", column_name="measure", widget=MeasureWidget())
    period_start = Field(
        attribute="period_start", column_name="period_start", widget=PeriodWidget()
    )
    numerator = Field(attribute="numerator", column_name="numerator", widget=DecimalTextWidget())
    denominator = Field(
        attribute="denominator", column_name="denominator", widget=DecimalTextWidget()
    )
    achieved = Field(attribute="achieved", column_name="achieved", widget=YesNoWidget("achieved"))
    note = Field(attribute="note", column_name="note", widget=TextWidget())

    required_columns = ("organization", "measure", "period_start")
    #: The header is line 1 of the file; row_number counts data rows from 1.
    line_offset = 1
    import_help = (
        "A CSV or Excel (.xlsx) file with a header row. Columns: organization (the name "
        "of one of this alliance's organizations), measure (its name, or its id if two "
        "workgroups share the name), period_start (the period's first day, e.g. 2021-03-01; "
        "also Mar 2021 or Q1 2021 for a quarterly measure), numerator, denominator (rates "
        "and percentages), achieved (milestones: yes or no), note. A row for an "
        "organization, measure and period already reported corrects it (the old values "
        "are kept). Every row is checked as on the data entry page; a file with any bad "
        "row saves nothing. Line numbers count the header as line 1."
    )

    class Meta:
        model = Reading
        fields = (
            "organization",
            "measure",
            "period_start",
            "numerator",
            "denominator",
            "achieved",
            "note",
        )
        # reading_validate is the check (full_clean would ask for entered_by and
        # other fields the service fills in).
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True

    def __init__(self, *, alliance: Alliance | None = None, **kwargs):
        super().__init__(alliance=alliance, **kwargs)
        # Widgets per resource: each caches its lookups, in this alliance only.
        self.fields["organization"].widget = OrganizationNameWidget(alliance)
        self.fields["measure"].widget = MeasureWidget(alliance)
        self._row: dict | None = None
        self._seen: dict[tuple[int, int, datetime.date], int] = {}
        self.user = None

    def before_import(self, dataset, **kwargs):
        # "Period start", "period" → period_start.
        if dataset.headers:
            dataset.headers = [
                "period_start" if _cell(h).lower() == "period" else h for h in dataset.headers
            ]
        super().before_import(dataset, **kwargs)
        self.user = kwargs.get("user")
        self._seen = {}
        if len(dataset) > MAX_ROWS and not self._column_problem:
            self._column_problem = (
                f"the file has {len(dataset):,} rows; the limit is {MAX_ROWS:,}: "
                "split it into smaller files"
            )
            # One message is enough, not one per row.
            del dataset[1:]

    # One row: parsed once (before the instance is looked up), then checked.

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)  # the file's column problems
        self._row = self._parse(row, kwargs["row_number"] + self.line_offset)

    def _parse(self, row, line: int) -> dict:
        """The row's values and the problems of each column, in the file's words."""
        parsed = {"line": line, "errors": {}, "blank": not any(_text(v) for v in row.values())}
        if parsed["blank"]:
            return parsed  # an empty spreadsheet row: skipped, as CSV's blank lines are
        errors = parsed["errors"]
        for name in ("organization", "measure"):
            try:
                parsed[name] = self.fields[name].widget.clean(row.get(name))
            except ValueError as error:
                errors[name] = str(error)
        if parsed.get("organization") is None and "organization" not in errors:
            errors["organization"] = "organization is empty: give its name"

        measure: Measure | None = parsed.get("measure")
        if measure is not None:
            try:
                parsed["period_start"] = parse_period(
                    _text(row.get("period_start")), measure.period
                )
            except ValueError as error:
                errors["period_start"] = str(error)
        for column in ("numerator", "denominator"):
            text = _text(row.get(column))
            try:
                parsed[column] = parse_number(text, column)
            except ValueError as error:
                errors[column] = str(error)
                continue
            if measure is not None and text and not self._takes(measure, column):
                errors[column] = (
                    f"{column}: {measure.name} ({measure.get_kind_display().lower()}) "
                    f"takes no {column}; leave it empty"
                )
        try:
            parsed["achieved"] = parse_achieved(_text(row.get("achieved")))
        except ValueError as error:
            errors["achieved"] = str(error)
        if (
            measure is not None
            and parsed.get("achieved") is not None
            and measure.kind != Measure.Kind.MILESTONE
        ):
            errors["achieved"] = (
                f"achieved: {measure.name} is not a milestone; give the numerator instead"
            )
        note = _text(row.get("note"))
        if len(note) > MAX_NOTE:
            errors["note"] = f"note: at most {MAX_NOTE:,} characters"
        elif "\x00" in note:
            errors["note"] = "note contains a NUL character"
        parsed["note"] = note
        return parsed

    @staticmethod
    def _takes(measure: Measure, column: str) -> bool:
        if measure.kind == Measure.Kind.MILESTONE:
            return False
        return column == "numerator" or measure.has_denominator

    def get_instance(self, instance_loader, row):
        parsed = self._row
        if (
            not parsed
            or parsed["blank"]
            or not all(
                parsed.get(k) is not None for k in ("organization", "measure", "period_start")
            )
        ):
            return None
        return (
            Reading.objects.filter(
                alliance=self.alliance,
                measure=parsed["measure"],
                organization=parsed["organization"],
                period_start=parsed["period_start"],
            )
            .select_related("measure", "organization")
            .first()
        )

    def init_instance(self, row=None):
        return Reading(alliance=self.alliance, note="")

    def import_instance(self, instance, row, **kwargs):
        parsed = self._row
        if parsed["blank"]:
            return
        for name in ("organization", "measure", "period_start"):
            if parsed.get(name) is not None:
                setattr(instance, name, parsed[name])
        instance.numerator = parsed.get("numerator")
        instance.denominator = parsed.get("denominator")
        instance.achieved = parsed.get("achieved")
        instance.note = parsed["note"]
        errors = dict(parsed["errors"])
        # Here, not in validate_instance: an unchanged (skipped) row counts too.
        measure, organization = parsed.get("measure"), parsed.get("organization")
        if measure and organization and parsed.get("period_start"):
            key = (measure.pk, organization.pk, parsed["period_start"])
            if key in self._seen:
                errors["__all__"] = (
                    f"{organization.name}, {measure.name}, "
                    f"{period_label(parsed['period_start'], measure.period)} is also on "
                    f"line {self._seen[key]}"
                )
            else:
                self._seen[key] = parsed["line"]
        if errors:
            raise ValidationError({key: ValidationError(text) for key, text in errors.items()})

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self._row["blank"]:
            return True
        return super().skip_row(instance, original, row, import_validation_errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The data entry page's rules (services.reading_validate), and no row twice."""
        errors = {
            key: ValidationError(texts).messages
            for key, texts in (import_validation_errors or {}).items()
        }
        parsed = self._row
        measure, organization = parsed.get("measure"), parsed.get("organization")
        if measure is not None and organization is not None and "period_start" not in errors:
            try:
                services.reading_validate(
                    measure=measure,
                    organization=organization,
                    period_start=parsed["period_start"],
                    numerator=parsed.get("numerator"),
                    denominator=parsed.get("denominator"),
                    achieved=parsed.get("achieved"),
                )
            except ValidationError as error:
                for key, texts in error.message_dict.items():
                    # A value that could not be read says enough already.
                    errors.setdefault(key, texts)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance, is_create):
        # The only write path: validation again, and a correction's revision.
        reading = services.reading_save(
            measure=instance.measure,
            organization=instance.organization,
            period_start=instance.period_start,
            by=self.user,
            numerator=instance.numerator,
            denominator=instance.denominator,
            achieved=instance.achieved,
            note=instance.note,
        )
        # The preview, the admin log and the result read the row's instance.
        instance.pk = reading.pk
        instance._state.adding = False

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("measure", "organization")
