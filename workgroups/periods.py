"""Reporting periods: months or quarters, each named by its first day."""

import datetime

MONTHLY, QUARTERLY = "monthly", "quarterly"


def period_of(day: datetime.date, period: str) -> datetime.date:
    """The first day of the period containing `day`."""
    month = day.month if period == MONTHLY else 3 * ((day.month - 1) // 3) + 1
    return datetime.date(day.year, month, 1)


def next_period(start: datetime.date, period: str) -> datetime.date:
    months = 1 if period == MONTHLY else 3
    index = start.year * 12 + start.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def periods_between(first: datetime.date, last: datetime.date, period: str) -> list[datetime.date]:
    """Every period from the one containing `first` to the one containing `last`."""
    periods, current, last = [], period_of(first, period), period_of(last, period)
    while current <= last:
        periods.append(current)
        current = next_period(current, period)
    return periods


def last_closed_period(today: datetime.date, period: str) -> datetime.date:
    """The latest period that has ended: data for it can be reported."""
    current = period_of(today, period)
    months = 1 if period == MONTHLY else 3
    index = current.year * 12 + current.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_label(start: datetime.date, period: str) -> str:
    """ "Jan 2021" or "Q1 2021" (one wording everywhere, charts included)."""
    from .runcharts import period_label as label

    return label(start, quarterly=period == QUARTERLY)


def is_period_start(day: datetime.date, period: str) -> bool:
    return day == period_of(day, period)
