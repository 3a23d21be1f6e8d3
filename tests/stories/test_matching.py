"""The grouping rule on cases of our own: a readout joins the unconfirmed reports of the
same call; other contacts, kinds and times stay apart; actors are found in the scripts
the news uses; contact kinds are read in several languages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from stories.actors import actors_in
from stories.kinds import contact_kind
from stories.matching import Item, components, same_contact

DAY = datetime.fromisoformat("2025-05-06T09:00:00+00:00")
REPORT = ("Vladimir Putin and Donald Trump spoke by phone on Monday about a ceasefire and "
          "grain exports, two people familiar with the call said. The Kremlin would neither "
          "confirm nor deny the conversation about the ceasefire and grain exports.")
READOUT = ("The Kremlin said Vladimir Putin had a telephone conversation with Donald Trump "
           "about a ceasefire and grain exports, and the White House confirmed the call on "
           "the ceasefire and grain exports.")
SUMMIT = ("Vladimir Putin and Donald Trump met at a summit in Vienna about a ceasefire and "
          "grain exports, both governments said after the summit on the ceasefire.")


def item(n: int, text: str, status: str, days: float = 0, language: str = "en") -> Item:
    return Item(id=n, outlet=f"Outlet {n}", at=DAY + timedelta(days=days), title=None,
                text=text, status=status, evidence=text.split(". ")[0], language=language)


def test_a_readout_joins_the_reports_of_the_same_call():
    report, readout = item(1, REPORT, "unconfirmed"), item(2, READOUT, "confirmed", days=1)
    assert same_contact(report, readout) and same_contact(readout, report)


def test_a_readout_days_later_or_of_another_kind_stays_apart():
    report = item(1, REPORT, "unconfirmed")
    assert not same_contact(report, item(2, READOUT, "confirmed", days=5))
    assert not same_contact(report, item(3, SUMMIT, "confirmed", days=1))


def test_components_close_the_rule_and_keep_the_first_report_first():
    items = [item(3, READOUT, "confirmed", days=1), item(1, REPORT, "unconfirmed"),
             item(2, REPORT, "unconfirmed", days=0.5), item(4, SUMMIT, "confirmed", days=9)]
    groups = components(items)
    assert [[i.id for i in g] for g in groups] == [[1, 2, 3], [4]]
    assert [[i.id for i in g] for g in components(items, together={1, 4})] == [[1, 2, 3, 4]]


@pytest.mark.parametrize("text, actors", [
    ("Ο Πούτιν μίλησε με τον Τραμπ", {"putin", "trump"}),
    ("بوتين وترامب بحثا في اتصال هاتفي", {"putin", "trump"}),
    ("Шойгу и Остин провели переговоры", {"shoigu", "austin"}),
    ("CIA chief Burns met Naryshkin", {"burns", "naryshkin"}),
    ("Burns belde met Narysjkin; Oesjakov zweeg", {"burns", "naryshkin", "ushakov"}),
    ("पुतिन और ट्रंप की बातचीत", {"putin", "trump"}),
])
def test_actors_in_the_scripts_of_the_news(text, actors):
    assert actors_in(text) == actors


@pytest.mark.parametrize("text, kind", [
    ("The presidents spoke by phone for an hour", "call"),
    ("Путин и Трамп провели телефонный разговор", "call"),
    ("Putin e Trump si sono sentiti in una telefonata", "call"),
    ("Les deux présidents se sont rencontrés au sommet", "meeting"),
    ("Trump ve Putin Alaska'da zirvede bir araya geldi", "meeting"),
    ("Witkoff met Putin in the Kremlin", "meeting"),
    ("They met and later spoke by phone", None),
    ("The method of the metals market", None),
])
def test_contact_kinds(text, kind):
    assert contact_kind(text) == kind


@pytest.mark.parametrize("sentence, day", [
    ("Putin held a phone call with U.S. President Trump on Tuesday, the Kremlin said",
     "2025-03-18"),
    ("The presidents talked by phone on Feb. 12, officials said", "2025-02-12"),
    ("They spoke at length. On Tuesday the markets rose", None),
])
def test_the_day_of_the_call_across_abbreviations(sentence, day):
    from stories.dates import call_date

    found = call_date(sentence, datetime.fromisoformat("2025-03-20").date())
    assert (found.isoformat() if found else None) == day


SPY_REPORT = ("CIA Director William Burns called the head of Russia's SVR Sergei "
              "Naryshkin this week to say Washington had no part in the mutiny, two "
              "newspapers reported.")
SPY_CONFIRMED = ("Sergei Naryshkin said Burns had called him at the end of June "
                 "and that they discussed the mutiny and what Washington knew of it.")
SPY_OTHER = ("Sergei Naryshkin said Burns had called him in early May and that "
             "they discussed the mutiny and what Washington knew of it.")


def spy_item(n: int, text: str, status: str, when: str) -> Item:
    return Item(id=n, outlet=f"Outlet {n}", at=datetime.fromisoformat(when), title=None,
                text=text, status=status, evidence=text, language="en")


def test_a_confirmation_weeks_later_that_dates_the_call_back_joins_its_reports():
    report = spy_item(1, SPY_REPORT, "unconfirmed", "2023-06-29T10:00:00+00:00")
    later = spy_item(2, SPY_CONFIRMED, "confirmed", "2023-07-12T10:00:00+00:00")
    assert same_contact(report, later) and same_contact(later, report)
    # dated to another month, or to a period after the report: another contact
    assert not same_contact(report, spy_item(3, SPY_OTHER, "confirmed",
                                             "2023-07-12T10:00:00+00:00"))
    assert not same_contact(spy_item(4, SPY_REPORT, "unconfirmed", "2023-06-05T10:00:00+00:00"),
                            spy_item(5, SPY_CONFIRMED, "confirmed", "2023-06-18T10:00:00+00:00"))


@pytest.mark.parametrize("sentence, period", [
    ("He confirmed the call took place at the end of June", ("2023-06-20", "2023-06-30")),
    ("The envoys met in mid-March in Riyadh", ("2023-03-10", "2023-03-20")),
    ("Президенты созвонились в начале июля", ("2023-07-01", "2023-07-10")),
    ("Посланці зустрічалися у травні", ("2023-05-01", "2023-05-31")),
    ("They last spoke in December", ("2022-12-01", "2022-12-31")),  # the latest December
    ("They met in Marco Rubio's office", None),
    ("Leaders may meet in the spring", None),
])
def test_the_period_a_sentence_dates_a_contact_to(sentence, period):
    from stories.dates import call_period

    found = call_period(sentence, datetime.fromisoformat("2023-07-13").date())
    assert (tuple(d.isoformat() for d in found) if found else None) == period
