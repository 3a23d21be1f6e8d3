"""The grouping rule: whether two contact-story articles report the same alleged contact.

It looks at nothing but the two articles, so the stories that come out of closing it
transitively do not depend on the order articles arrive in (docs/stories.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from stories.actors import actors_in
from stories.copies import COPY_THRESHOLD, body_lines, containment, content_words, shingles
from stories.dates import call_date as sentence_call_date
from stories.dates import call_period
from stories.kinds import contact_kind

WINDOW = timedelta(days=14)  # an article joins a story only within this of a member
CROSS_LANGUAGE_WINDOW = timedelta(days=2)
# A report and the readout that confirms the same kind of contact come within days.
CONFIRMATION_WINDOW = timedelta(days=3)  # no shared words to go by: time and actors
LEXICAL_OVERLAP = 0.2  # share of the smaller lead's content words found in the other
LEAD_CHARS = 1500
STATUSES = ("unconfirmed", "confirmed")  # the call statuses that make a story
STORY_STATUSES = ("unconfirmed", "confirmed", "denied")


@dataclass
class Item:
    """What grouping needs to know about one article."""

    id: int
    outlet: str
    at: datetime
    title: str | None
    text: str
    status: str
    evidence: str | None = None
    language: str | None = None
    story_id: int | None = None
    copy_of: int | None = None
    extra: dict = field(default_factory=dict)

    @cached_property
    def lead(self) -> str:
        """Title and the prose from the first line naming a leader: pages often open
        with long furniture (disclaimers, teasers) before the article."""
        lines = body_lines(self.text) or [self.text]
        start = next((i for i, line in enumerate(lines) if actors_in(line)), 0)
        return f"{self.title or ''}\n{chr(10).join(lines[start:])[:LEAD_CHARS]}"

    @cached_property
    def actors(self) -> frozenset[str]:
        return actors_in(self.lead)

    @cached_property
    def terms(self) -> frozenset[str]:
        return frozenset(w for w in content_words(self.lead) if len(w) > 2)

    @cached_property
    def shingles(self) -> frozenset[str]:
        return frozenset(shingles(self.text))

    @cached_property
    def kind(self) -> str | None:
        """The kind of contact reported ("call", "meeting"): its evidence's, else its
        title's."""
        return contact_kind(self.evidence) or contact_kind(self.title)

    @cached_property
    def call_date(self) -> date | None:
        try:
            return sentence_call_date(self.evidence or "", self.at.date())
        except OverflowError:  # a date at the ends of the calendar ties no call to a day
            return None

    @cached_property
    def period(self) -> tuple[date, date] | None:
        """The month, or part of one, its evidence dates the contact to."""
        return call_period(self.evidence or "", self.at.date())


def dates_back_to(later: Item, earlier: Item) -> bool:
    """The later article dates the contact to a period holding the earlier report ("he
    confirmed the call took place at the end of June", said two weeks on): a retrospective
    confirmation of what was reported then, however many days later."""
    if not later.period or later.at < earlier.at:
        return False
    first, last = later.period
    day = earlier.call_date or earlier.at.date()
    return first - timedelta(days=1) <= day <= last + timedelta(days=1)


def lexical_overlap(a: Item, b: Item) -> float:
    if not a.terms or not b.terms:
        return 0.0
    return len(a.terms & b.terms) / min(len(a.terms), len(b.terms))


def is_copy_pair(a: Item, b: Item) -> bool:
    return a.outlet != b.outlet and containment(a.shingles, b.shingles) >= COPY_THRESHOLD


def same_contact(a: Item, b: Item) -> bool:
    """Whether two contact stories report the same alleged contact. Symmetric, and it
    looks at nothing but the two articles, which is what makes grouping order-free."""
    if is_copy_pair(a, b):
        return True
    if abs(a.at - b.at) > WINDOW:
        return False
    if a.call_date and b.call_date and abs(a.call_date - b.call_date) > timedelta(days=1):
        return False
    if a.kind and b.kind and a.kind != b.kind and abs(a.at - b.at) > CONFIRMATION_WINDOW:
        return False  # a call and a meeting days apart are two contacts
    if a.status != b.status and not (a.call_date and a.call_date == b.call_date) and not (
            a.kind and a.kind == b.kind and abs(a.at - b.at) <= CONFIRMATION_WINDOW) and not (
            dates_back_to(a, b) or dates_back_to(b, a)):
        return False  # a confirmed call and unconfirmed claims are, as a rule, two contacts
    if len(a.actors & b.actors) < 2:
        return False
    if a.language and b.language and a.language != b.language:
        return abs(a.at - b.at) <= CROSS_LANGUAGE_WINDOW
    return lexical_overlap(a, b) >= LEXICAL_OVERLAP


def components(items: list[Item], together: set[int] = frozenset()) -> list[list[Item]]:
    """The items grouped by `same_contact` closed transitively: each group is one
    contact; the ids in `together` (placed by a person) are one group whatever the rule
    says. Groups come oldest first, each in order of report, so that the group holding a
    story's first report is the one that keeps the story."""
    ordered = sorted(items, key=lambda item: (item.at, item.id))
    parent = list(range(len(ordered)))
    pinned = [i for i, item in enumerate(ordered) if item.id in together]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in pinned[1:]:
        parent[root(i)] = root(pinned[0])
    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            if root(i) != root(j) and same_contact(a, ordered[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[Item]] = {}
    for i, item in enumerate(ordered):
        groups.setdefault(root(i), []).append(item)
    return sorted(groups.values(), key=lambda group: (group[0].at, group[0].id))
