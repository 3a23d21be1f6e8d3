"""The day of the contact a deciding sentence speaks of, when it names one."""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CALL_WORDS = r"(?:spoke|spoken|speak|talked|talks|call|called|conversation|met|meeting)"
# A full stop that ends an abbreviation ("U.S.", "Feb.") rather than the sentence.
_ABBREVIATION = r"\b\w\.|\b(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\."
_CALL_DATE = re.compile(
    # up to 60 characters to the date, within the sentence
    rf"\b{_CALL_WORDS}\b(?:[^.;:]|{_ABBREVIATION}){{0,60}}?\b(?:on|last)\s+"
    r"(?:(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day>\d{1,2})\b"
    r"|(?P<day2>\d{1,2})\s+(?P<month2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))",
    re.IGNORECASE,
)


def call_date(sentence: str, published: date) -> date | None:
    """The date of the contact when the sentence ties one to it ("spoke by phone on
    Tuesday", "the call on Feb. 12"); weekdays resolve to the last such day on or
    before publication. English only; None when the sentence gives no date."""
    match = _CALL_DATE.search(sentence)
    if not match:
        return None
    if match.group("weekday"):
        wanted = _WEEKDAYS.index(match.group("weekday").lower())
        return published - timedelta(days=(published.weekday() - wanted) % 7)
    month = (match.group("month") or match.group("month2")).lower()[:3]
    day = int(match.group("day") or match.group("day2"))
    try:
        found = date(published.year, _MONTHS.index(month) + 1, day)
    except ValueError:
        return None
    return found if found <= published + timedelta(days=1) else found.replace(
        year=found.year - 1)
