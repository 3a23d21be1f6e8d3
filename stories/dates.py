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


# Months as the news names them: English names and abbreviations, and Russian and
# Ukrainian stems (their case endings vary: "в июне", "наприкінці червня").
_MONTH_STEMS = (
    ("jan(?:uary)?\\b", "январ", "січн"), ("feb(?:ruary)?\\b", "феврал", "лют"),
    ("mar(?:ch)?\\b", "март", "берез"), ("apr(?:il)?\\b", "апрел", "квіт"),
    ("may\\b", "ма[йя]", "травн"), ("june?\\b", "июн", "червн"), ("july?\\b", "июл", "липн"),
    ("aug(?:ust)?\\b", "август", "серпн"), ("sep(?:t|tember)?\\b", "сентябр", "вересн"),
    ("oct(?:ober)?\\b", "октябр", "жовтн"), ("nov(?:ember)?\\b", "ноябр", "листопад"),
    ("dec(?:ember)?\\b", "декабр", "грудн"),
)
_PART = (r"(?:(?P<late>late|(?:at\s+)?the\s+end\s+of|в\s+конце|наприкінці|в\s+кінці)"
         r"|(?P<early>early|(?:at\s+)?the\s+(?:beginning|start)\s+of|в\s+начале|на\s+початку)"
         r"|(?P<mid>mid|(?:in\s+)?the\s+middle\s+of|в\s+середине|в\s+середині|у\s+середині)"
         r"|(?P<whole>in|during|в|у))")
_PERIOD = re.compile(
    rf"\b{_PART}[\s-]+(?P<month>"
    + "|".join(rf"(?:{'|'.join(stems)})" for stems in _MONTH_STEMS)
    + r")\w*(?:\s+(?P<year>(?:19|20)\d\d))?",
    re.IGNORECASE,
)


def call_period(sentence: str, published: date) -> tuple[date, date] | None:
    """The days a sentence dates a contact to by its month ("confirmed the call took
    place at the end of June", "в начале июля"): the whole month, or its first, middle
    or last ten days; the latest such month on or before publication unless a year is
    given. None when no month is named."""
    match = _PERIOD.search(sentence)
    if not match:
        return None
    word = match.group("month").lower()
    month = next(i for i, stems in enumerate(_MONTH_STEMS, 1)
                 if any(re.match(stem, word) for stem in stems))
    year = int(match.group("year")) if match.group("year") else published.year
    if not match.group("year") and (year, month) > (published.year, published.month):
        year -= 1
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if match.group("late"):
        return first.replace(day=20), last
    if match.group("early"):
        return first, first.replace(day=10)
    if match.group("mid"):
        return first.replace(day=10), first.replace(day=20)
    return first, last
