"""CSV upload of many readings of one measure: read, parse, check, preview.

Nothing here saves: `services.readings_import` does, from a preview whose every
row is valid. The rules of one reading live in `services.reading_validate`, and
who may report for whom in `services.can_report_for`; this module adds only what
a file can get wrong: unknown columns and names, unparseable values, the same
organization and period twice.

Between the preview and the confirmation the file travels in the page, signed
(`sign_upload`): no temporary file, and nothing the browser could change.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from alliance.tenancy.permissions import membership_for
from members.models import Organization, User

from . import services
from .models import Measure, Reading
from .periods import MONTHLY, QUARTERLY, next_period, period_label, period_of

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_NOTE = 2000
SIGNATURE_MAX_AGE = 60 * 60  # seconds between the preview and the confirmation

ALL_COLUMNS = ("organization", "period", "numerator", "denominator", "achieved", "note")
OPTIONAL_COLUMNS = frozenset({"note"})
# The model's DecimalField(max_digits=16, decimal_places=4).
MAX_WHOLE_DIGITS, MAX_DECIMALS = 12, 4

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?")
_MONTH_YEAR = re.compile(r"([a-z]+)\.?[ -]?(\d{4})")
_QUARTER = re.compile(r"q([1-4])[ -]?(\d{4})|(\d{4})[ -]?q([1-4])")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})


def columns_for(measure: Measure) -> list[str]:
    """The columns a file for this measure has, in the order the guide shows them."""
    if measure.kind == Measure.Kind.MILESTONE:
        values = ["achieved"]
    elif measure.has_denominator:
        values = ["numerator", "denominator"]
    else:
        values = ["numerator"]
    return ["organization", "period", *values, "note"]


def example_csv(measure: Measure, organization_name: str) -> str:
    """A two-row file for the guide, in the measure's own columns and periods."""
    first = measure.first_period
    second = next_period(first, measure.period)
    if measure.period == QUARTERLY:
        periods = [period_label(first, QUARTERLY), second.strftime("%Y-%m")]
    else:
        periods = [first.strftime("%Y-%m"), period_label(second, MONTHLY)]
    if measure.kind == Measure.Kind.MILESTONE:
        values = [["yes"], ["no"]]
    elif measure.has_denominator:
        values = [["2", "48000"], ["1", "47500"]]
    else:
        values = [["12"], ["9"]]
    notes = ["", "New lifting equipment"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns_for(measure))
    for period, value, note in zip(periods, values, notes, strict=True):
        writer.writerow([organization_name, period, *value, note])
    return out.getvalue()


# Reading the uploaded file
# ------------------------------------------------------------------------------


def decode_upload(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte order mark."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is 2 MB. "
            "Split it into smaller files."
        )
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(
            "This looks like a spreadsheet workbook, not a CSV file. In Excel choose "
            "File › Save As › “CSV UTF-8 (Comma delimited)”."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."
        ) from error


class ReadingUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={
            "required": "Choose a CSV file to upload.",
            "invalid": "Choose a CSV file to upload.",
            "empty": "The file is empty.",
        },
        help_text="At most 5,000 rows and 2 MB. Nothing is saved before you confirm.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:  # refuse before reading it into memory
            raise ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 2 MB. "
                "Split it into smaller files."
            )
        self.text = decode_upload(upload.read())
        return upload


def _salt(measure: Measure, user: User) -> str:
    # A payload signed for one measure and user is worthless for another.
    return f"workgroups.readings-upload:{measure.pk}:{user.pk}"


def sign_upload(text: str, *, measure: Measure, user: User) -> str:
    return signing.dumps(text, salt=_salt(measure, user), compress=True)


def unsign_upload(token: str, *, measure: Measure, user: User) -> str | None:
    """The file text signed at the preview, or None if changed, expired or not ours."""
    try:
        text = signing.loads(token, salt=_salt(measure, user), max_age=SIGNATURE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    return text if isinstance(text, str) else None


# Parsing values
# ------------------------------------------------------------------------------


def _shown(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}…”" if len(text) > limit else f"“{text}”"


def parse_period(text: str, period: str) -> datetime.date:
    """The first day of the period `text` names; ValueError with the reason."""
    value = " ".join(text.split()).casefold()
    if not value:
        raise ValueError("Enter the period.")
    examples = "2021-03, 2021-03-01 or Mar 2021" + (" or Q1 2021" if period == QUARTERLY else "")
    if match := _ISO.fullmatch(value):
        year, month, day = match.group(1), match.group(2), match.group(3) or "1"
    elif (match := _MONTH_YEAR.fullmatch(value)) and match.group(1) in _MONTHS:
        year, month, day = match.group(2), _MONTHS[match.group(1)], 1
    elif match := _QUARTER.fullmatch(value):
        if period != QUARTERLY:
            raise ValueError(
                f"{_shown(text)} is a quarter, but this measure is reported monthly: "
                "give a month such as Mar 2021."
            )
        quarter, year = match.group(1, 2) if match.group(1) else match.group(4, 3)
        month, day = 3 * int(quarter) - 2, 1
    else:
        raise ValueError(f"{_shown(text)} is not a period; use e.g. {examples}.")
    try:
        return period_of(datetime.date(int(year), int(month), int(day)), period)
    except ValueError as error:
        raise ValueError(f"{_shown(text)} is not a date; use e.g. {examples}.") from error


def parse_number(text: str, column: str) -> Decimal | None:
    value = text.strip()
    if not value:
        return None
    if "," in value:
        raise ValueError(
            f"{column}: write {_shown(text)} without commas, with a point for decimals "
            "(e.g. 48000 or 1.5)."
        )
    if not _NUMBER.fullmatch(value):
        raise ValueError(f"{column}: {_shown(text)} is not a number.")
    number = Decimal(value)
    whole, _, decimals = value.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise ValueError(
            f"{column}: {_shown(text)} is too large "
            f"(at most {MAX_WHOLE_DIGITS} digits before the decimal point)."
        )
    if len(decimals.rstrip("0")) > MAX_DECIMALS:
        raise ValueError(f"{column}: use at most {MAX_DECIMALS} decimal places.")
    return number


def parse_achieved(text: str) -> bool | None:
    value = text.strip().casefold()
    if not value:
        return None
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"achieved: {_shown(text)} is not yes or no.")


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _number_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


# The preview
# ------------------------------------------------------------------------------


@dataclass
class ImportRow:
    """One data row of the file: its cells as written, the parsed values, its problems."""

    line: int
    cells: dict[str, str]
    organization: Organization | None = None
    period_start: datetime.date | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    achieved: bool | None = None
    note: str = ""
    existing: Reading | None = None
    errors: list[str] = field(default_factory=list)
    period_kind: str = MONTHLY

    @property
    def action(self) -> str:
        """ "create", "update" or "unchanged" (saving an unchanged row does nothing)."""
        if self.existing is None:
            return "create"
        old = self.existing
        new = (self.numerator, self.denominator, self.achieved, self.note)
        return (
            "unchanged"
            if (old.numerator, old.denominator, old.achieved, old.note) == new
            else "update"
        )

    @property
    def message(self) -> str:
        return f"Line {self.line}: {' '.join(self.errors)}"

    @property
    def period_text(self) -> str:
        if self.period_start is None:
            return self.cells.get("period", "")
        return period_label(self.period_start, self.period_kind)

    @property
    def organization_text(self) -> str:
        return self.organization.name if self.organization else self.cells.get("organization", "")

    @property
    def numerator_text(self) -> str:
        if self.numerator is None:
            return self.cells.get("numerator", "")
        return _number_text(self.numerator)

    @property
    def denominator_text(self) -> str:
        if self.denominator is None:
            return self.cells.get("denominator", "")
        return _number_text(self.denominator)

    @property
    def achieved_text(self) -> str:
        if self.achieved is None:
            return self.cells.get("achieved", "")
        return "Progress" if self.achieved else "No progress"

    @property
    def old_value(self) -> str:
        old = self.existing
        if old is None:
            return ""
        if old.achieved is not None:
            value = "Progress" if old.achieved else "No progress"
        elif old.denominator is not None:
            value = f"{_number_text(old.numerator)} ÷ {_number_text(old.denominator)}"
        else:
            value = _number_text(old.numerator)
        return f"{value} ({old.note})" if old.note and old.note != self.note else value


@dataclass
class Preview:
    rows: list[ImportRow] = field(default_factory=list)
    #: Problems of the file as a whole (size, encoding, header): no rows then.
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not any(r.errors for r in self.rows)

    @property
    def problems(self) -> list[str]:
        return self.errors + [row.message for row in self.rows if row.errors]

    @property
    def bad_rows(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if not row.errors and row.action == action)

    @property
    def creates(self) -> int:
        return self.count("create")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def _delimiter(header_line: str) -> str:
    """Comma or semicolon (or tab): the header names hold none of them, so count."""
    return max([",", ";", "\t"], key=header_line.count)


def _header_errors(names: list[str], measure: Measure, line: int) -> list[str]:
    wanted = columns_for(measure)
    guide = f"The columns are: {', '.join(wanted)}."
    errors, seen = [], set()
    for name in names:
        if not name:
            continue
        if name in seen:
            errors.append(f"Line {line}: the column “{name}” appears twice.")
        elif name not in ALL_COLUMNS:
            errors.append(f"Line {line}: unknown column {_shown(name)}. {guide}")
        elif name not in wanted:
            errors.append(
                f"Line {line}: this measure ({measure.get_kind_display().split(' (')[0].lower()}) "
                f"takes no “{name}” column. {guide}"
            )
        seen.add(name)
    missing = [c for c in wanted if c not in seen and c not in OPTIONAL_COLUMNS]
    if missing:
        names_missing = "”, “".join(missing)
        are = "columns are" if len(missing) > 1 else "column is"
        errors.append(f"Line {line}: the “{names_missing}” {are} missing. {guide}")
    return errors


def _records(text: str, delimiter: str):
    """(line number where the record starts, cells) for every record, blank ones included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValueError(
                f"Line {reader.line_num}: the file cannot be read ({error})."
            ) from error
        yield line + 1, cells
        line = reader.line_num


def parse_readings(
    *, measure: Measure, by: User, text: str, today: datetime.date | None = None
) -> Preview:
    """Every row of the file for `measure`, parsed and checked as `by` would save it."""
    preview = Preview()
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        preview.errors.append("The file is larger than 2 MB. Split it into smaller files.")
        return preview
    if "\x00" in text:
        preview.errors.append(
            "The file holds binary data (NUL bytes); is it a spreadsheet? Save it as CSV UTF-8."
        )
        return preview
    header_line = next((line for line in text.splitlines() if line.strip()), None)
    if header_line is None:
        preview.errors.append("The file is empty.")
        return preview

    raw: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    header_at = 1
    try:
        for line, cells in _records(text, _delimiter(header_line)):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are ignored
            if header is None:
                header, header_at = [cell.strip().casefold() for cell in cells], line
                continue
            if len(raw) == MAX_ROWS:
                preview.errors.append(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
                )
                return preview
            raw.append((line, cells))
    except ValueError as error:
        preview.errors.append(str(error))
        return preview
    if header is None:
        preview.errors.append("The file is empty.")
        return preview
    if errors := _header_errors(header, measure, header_at):
        preview.errors.extend(errors)
        return preview
    if not raw:
        preview.errors.append("The file has a header but no readings.")
        return preview

    preview.rows = [_row(line, cells, header, measure.period) for line, cells in raw]
    _check(preview.rows, measure=measure, by=by, today=today)
    return preview


def _row(line: int, cells: list[str], header: list[str], period_kind: str) -> ImportRow:
    row = ImportRow(line=line, cells={}, period_kind=period_kind)
    for index, cell in enumerate(cells):
        name = header[index] if index < len(header) else ""
        if name:
            row.cells[name] = cell.strip()
        elif cell.strip():
            row.errors.append(
                f"Column {index + 1} has a value but no header "
                "(check the delimiter and the quotes)."
            )
            break
    return row


# The order of a row's messages: the file's columns, then the row as a whole.
_MESSAGE_ORDER = ("organization", "period", "numerator", "denominator", "achieved", "note", "row")
# reading_validate's field names, as the file's columns.
_COLUMN_OF = {"period_start": "period", NON_FIELD_ERRORS: "organization"}


def _check(rows: list[ImportRow], *, measure: Measure, by: User, today) -> None:
    """Parse every row's values, then ask the services what they would refuse."""
    by_name: dict[str, list[Organization]] = {}
    for organization in Organization.objects.filter(alliance_id=measure.alliance_id):
        by_name.setdefault(_name_key(organization.name), []).append(organization)
    own = membership_for(by, measure.alliance)
    own_organization = own.organization if own else None
    allowed: dict[int, bool] = {}  # can_report_for, by organization
    stand_in = next((found[0] for found in by_name.values()), None)

    first_line: dict[tuple[int, datetime.date], int] = {}
    for row in rows:
        errors: dict[str, list[str]] = {}
        name = row.cells.get("organization", "")
        matches = by_name.get(_name_key(name), [])
        if not name.strip():
            errors["organization"] = ["Enter the organization."]
        elif not matches:
            errors["organization"] = [
                f"There is no organization named {_shown(name)} in this alliance."
            ]
        elif len(matches) > 1:
            errors["organization"] = [f"More than one organization is named {_shown(name)}."]
        elif _may_report(allowed, by=by, measure=measure, organization=matches[0]):
            row.organization = matches[0]
        elif services.reports_measure(measure=measure, organization=matches[0]):
            errors["organization"] = [
                f"You cannot report for {matches[0].name}"
                + (f"; you report for {own_organization.name}." if own_organization else ".")
            ]
        else:  # reading_validate says why: it does not report this measure
            row.organization = matches[0]

        try:
            row.period_start = parse_period(row.cells.get("period", ""), measure.period)
        except ValueError as error:
            errors["period"] = [str(error)]
        for column in columns_for(measure):
            try:
                if column in ("numerator", "denominator"):
                    setattr(row, column, parse_number(row.cells.get(column, ""), column))
                elif column == "achieved":
                    row.achieved = parse_achieved(row.cells.get(column, ""))
            except ValueError as error:
                errors[column] = [str(error)]
        row.note = row.cells.get("note", "")
        if len(row.note) > MAX_NOTE:
            errors["note"] = [f"note: at most {MAX_NOTE:,} characters."]

        # Without a usable organization the values are still checked, with a stand-in
        # organization whose only verdict (does it report the measure?) is ignored.
        subject = row.organization or stand_in
        if subject is not None:
            try:
                services.reading_validate(
                    measure=measure,
                    organization=subject,
                    # An unreadable period is reported above; check the values anyway.
                    period_start=row.period_start or measure.first_period,
                    numerator=row.numerator,
                    denominator=row.denominator,
                    achieved=row.achieved,
                    today=today,
                )
            except ValidationError as error:
                for field_name, messages in error.message_dict.items():
                    column = _COLUMN_OF.get(field_name, field_name)
                    # A value that could not be read, or a verdict on the stand-in, says
                    # nothing more ("Enter the numerator." after "“x” is not a number.").
                    if column not in errors:
                        in_column = column in ("numerator", "denominator", "achieved")
                        errors[column] = [f"{column}: {m}" if in_column else m for m in messages]

        if row.organization is not None and row.period_start is not None:
            key = (row.organization.pk, row.period_start)
            if key in first_line:
                errors.setdefault("row", []).append(
                    f"{row.organization.name}, {row.period_text} is also on line {first_line[key]}."
                )
            else:
                first_line[key] = row.line
        row.errors += [message for column in _MESSAGE_ORDER for message in errors.get(column, [])]

    _attach_existing(rows, measure)


def _may_report(allowed: dict, *, by: User, measure: Measure, organization) -> bool:
    if organization.pk not in allowed:
        allowed[organization.pk] = services.can_report_for(
            user=by, measure=measure, organization=organization
        )
    return allowed[organization.pk]


def _attach_existing(rows: list[ImportRow], measure: Measure) -> None:
    """The reading each row would correct, if any: one query."""
    organization_ids = {row.organization.pk for row in rows if row.organization}
    if not organization_ids:
        return
    existing = {
        (reading.organization_id, reading.period_start): reading
        for reading in Reading.objects.filter(measure=measure, organization_id__in=organization_ids)
    }
    for row in rows:
        if row.organization and row.period_start:
            row.existing = existing.get((row.organization.pk, row.period_start))
