"""The rules: find contact sentences, read their status cues, decide for the article.

A contact sentence names a Russian-side and a US-side actor (the second may come from
the two sentences before it) and a contact word. Each contact sentence gets one status
class from its cues; the article's status is the strongest class present, in the order
a careful editor would weigh them (see `decide`)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from classify.cues import Cues, normalize, normalize_line
from classify.text import (
    Sentence,
    matches_title,
    page_blocks,
    split_articles,
    split_sentences,
)

UNCERTAIN = "uncertain"  # hedged, neither confirmed nor denied, "may have"
DENIAL = "denial"  # a side refutes a contact someone claimed
NEGATION = "negation"  # "there was no call": unconfirmed only beside a claim
SOURCED = "sourcing"  # anonymous sources: unconfirmed unless an official confirms
CLAIM = "claim"  # said by one side or by the media only
CONFIRMED = "confirmed"  # an official side or a readout confirms it
REPORTED = "reported"  # told as fact, no attribution
PLANNED = "planned"  # intended, hoped for, cancelled
BACKGROUND = "background"  # an older contact recalled for context
REFUSED = "refused"  # a contact refused, turned down or attempted in vain
SILENCE = "silence"  # flag: a side says nothing of it ("declined to comment")
QUESTION = "question"  # flag: an open question about a contact ("whether he would call")

LEAD_SENTENCES = 5  # the lead of a news article: where its subject is stated
MIN_MENTIONS = 3  # contact sentences that make an article a contact story without its lead
WINDOW = 2  # sentences back in which the other side of a contact may be named

NEAR = 60  # characters: how close a contact word must be to both sides beside a third leader

# sets: looked up for each cue hit of each article
_FLAG_NAMES = frozenset({"uncertain", "denial", "negation", "claim", "confirmed", "source",
                         "assertion", "sourcing", "media", "earlier", "planned", "past",
                         "background", "hedge", "refusal", "readout", "official", "question",
                         "silence", "speaker_ru", "speaker_us", "long_ago", "openness"})
_POSITIONS = frozenset({"ru", "us", "other", "contact", "claim", "hedge", "dating", "past"})
CLAIM_REACH = 80  # characters: a claim cue speaks of the contact word near it
HEDGE_REACH = 40  # characters: "allegedly", "secret" hedge only the contact word beside them
PAIR_GAP = 15  # characters between the two sides named together ("Trump and Putin")
_SUPPRESSIBLE = frozenset({"contact", "contact_weak", "past", "refusal", "planned",
                          "readout"})


@dataclass
class Facts:
    """What the cues found in one sentence."""

    ru: bool = False
    us: bool = False
    ru_weak: bool = False
    us_weak: bool = False
    other: bool = False
    pair: bool = False
    contact: bool = False
    contact_weak: bool = False
    flags: set[str] = field(default_factory=set)
    positions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class Mention:
    """A sentence that speaks of a contact, with its status class."""

    position: int  # -1 for the title, else index in the article
    text: str
    status: str
    facts: Facts
    heading: bool = False  # a headline or subhead inside the text
    aside: bool = False  # in an article whose title is a third leader's contact


def _overlaps(span: tuple[int, int], blocked: list[tuple[int, int]]) -> bool:
    return any(span[0] < b[1] and b[0] < span[1] for b in blocked)


def scan(norms: list[str], cues: Cues) -> list[Facts]:
    """Read all sentences once and collect, per sentence, which cues occur in it."""
    joined = "\n".join(norms)
    starts = []
    pos = 0
    for norm in norms:
        starts.append(pos)
        pos += len(norm) + 1
    facts = [Facts() for _ in norms]
    hits = cues.find(joined, raw=False)
    # Regular-expression cues only where a contact may be spoken of: the sentences with a
    # contact word and the two after them.
    contact_at = {bisect.bisect_right(starts, a) - 1 for name, a, _ in hits
                  if name in ("contact", "contact_weak")}
    nearby = sorted({i + k for i in contact_at for k in range(WINDOW + 1) if i + k < len(norms)})
    if nearby:
        hits.extend(_raw_hits(norms, starts, nearby, cues))
    blocked = [(a, b) for name, a, b in hits if name == "not_contact"]
    for name, a, b in hits:
        if name == "not_contact":
            continue
        if name in _SUPPRESSIBLE and blocked and _overlaps((a, b), blocked):
            continue
        index = bisect.bisect_right(starts, a) - 1
        f = facts[index]
        if name in _POSITIONS:
            f.positions.setdefault(name, []).append((a - starts[index], b - starts[index]))
        if name in _FLAG_NAMES:
            f.flags.add(name)
        else:
            setattr(f, name, True)
    for f in facts:
        _scope_claims(f)
        _scope_hedges(f)
        _scope_dating(f)
    return facts


def _scope_dating(f: Facts) -> None:
    """A contact told in a time clause that dates other news ("a day after Trump spoke
    with Putin, oil rose") is background unless a contact verb in the past outside the
    clause tells another one: "Days after their envoys talked, Trump and Putin met". A
    contact noun outside it ("... for five hours of talks, a meeting confirmed by both")
    is the same contact described."""
    spans = f.positions.get("dating")
    if not spans:
        return
    pasts = f.positions.get("past", [])
    for k in f.positions.get("contact", []):
        inside = any(a <= k[0] and k[1] <= b for a, b in spans)
        if not inside and any(p[0] <= k[0] < p[1] or k[0] <= p[0] < k[1] for p in pasts):
            return
    f.flags.add(BACKGROUND)


def _scope_hedges(f: Facts) -> None:
    """A hedge word ("allegedly", "secret", "undisclosed") makes the contact uncertain only
    when it stands beside the contact word ("a secret call"; not "sanctions for allegedly
    interfering", said in the same sentence as a call)."""
    hedges = f.positions.get("hedge")
    if not hedges:
        return
    contacts = f.positions.get("contact", [])
    if any(_gap(h, k) <= HEDGE_REACH for h in hedges for k in contacts) or (
            not contacts and f.contact_weak):
        f.flags.add(UNCERTAIN)


def _scope_claims(f: Facts) -> None:
    """A claim cue governs the contact words after it ("according to the book, Trump
    called Putin"); one that trails the contact speaks of it only when near ("met Putin,
    then ... declined to say whether he believed his own agencies" does not)."""
    claims = f.positions.get("claim")
    contacts = f.positions.get("contact")
    if not claims or not contacts:
        return
    for c in claims:
        if any(c[0] <= k[0] or _gap(c, k) <= CLAIM_REACH for k in contacts):
            return
    f.flags.discard(CLAIM)


def _raw_hits(norms: list[str], starts: list[int], chosen: list[int],
              cues: Cues) -> list[tuple[str, int, int]]:
    """Regular-expression cues over the chosen sentences, read together in one pass;
    a match that runs from one sentence into the next is dropped."""
    text = "\n".join(norms[i] for i in chosen)
    local_starts = []
    pos = 0
    for i in chosen:
        local_starts.append(pos)
        pos += len(norms[i]) + 1
    out = []
    for name, a, b in cues.index.find_raw(text):
        k = bisect.bisect_right(local_starts, a) - 1
        if b > local_starts[k] + len(norms[chosen[k]]):
            continue
        shift = starts[chosen[k]] - local_starts[k]
        out.append((name, a + shift, b + shift))
    return out


def _is_contact_sentence(i: int, facts: list[Facts], mentioned: list[bool]) -> bool:
    """Whether sentence i speaks of a Kremlin–White House contact."""
    f = facts[i]
    if not (f.contact or f.contact_weak):
        if UNCERTAIN in f.flags and any(mentioned[max(0, i - WINDOW):i]):
            return True  # "I can neither confirm nor deny it." after the question
        # "That is what two US newspapers report." right after the contact it attributes,
        # also when the press names its sources' side ("citing two American officials")
        attributes = (bool(f.flags & {SOURCED, CLAIM, SILENCE}) and not (f.ru or f.us)
                      or "media" in f.flags and not (f.ru and f.us))
        if attributes:
            return i > 0 and mentioned[i - 1]
        # "The Kremlin has not commented." or "The White House denied it." after a contact
        speaks_of_it = bool(f.flags & {SILENCE, DENIAL})
        return speaks_of_it and (f.ru or f.us) and any(mentioned[max(0, i - WINDOW):i])
    if f.contact_weak and not f.contact:
        return f.ru and f.us and (not f.other or _near_both(f))
    if f.ru and f.us:
        return not f.other or _near_both(f)
    if f.other:
        return False  # a contact with a third leader ("Xi and Putin ... as Washington says")
    if (f.ru and f.us_weak) or (f.us and f.ru_weak):
        return True
    # a side named beside a third leader ("Zelensky met Trump") is that leader's contact;
    # it is borrowed only when its sentence was itself about the two sides
    before = [facts[j] for j in range(max(0, i - WINDOW), i)
              if not facts[j].other or mentioned[j]]
    ctx_ru = f.ru or any(b.ru for b in before)
    ctx_us = f.us or any(b.us for b in before)
    if f.pair and ctx_ru and ctx_us:
        return True
    if (f.ru or f.us) and ctx_ru and ctx_us:
        return True
    # "The call lasted an hour." right after a contact sentence
    return not (f.ru or f.us) and i > 0 and mentioned[i - 1]


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, a[0] - b[1], b[0] - a[1])


def _near_both(f: Facts) -> bool:
    """Beside a third leader, the two sides must be named together and the contact word
    close to them ("any meeting between Trump and Putin must include Zelensky" is a
    Kremlin–White House contact; "Zelensky is ready to meet Putin and urged Trump to"
    is not)."""
    others = f.positions.get("other", [])
    for ru in f.positions.get("ru", []):
        for us in f.positions.get("us", []):
            if _gap(ru, us) > PAIR_GAP:
                continue
            for c in f.positions.get("contact", []):
                near = min(_gap(c, ru), _gap(c, us))
                # the third leader must not stand closer to the contact word than the pair
                # ("met Zelensky at the White House; the Kremlin ..." is their meeting)
                if near <= NEAR and all(_gap(c, o) > near for o in others):
                    return True
    return False


# Who tells of a contact: an older contact someone now claims, reveals or confirms is news.
_ATTRIBUTED = frozenset({CLAIM, SOURCED, "media", "assertion", SILENCE, CONFIRMED, "source",
                         "official", "readout", DENIAL, NEGATION, UNCERTAIN})


def status_of(flags: set[str]) -> str:
    """The status class of one contact sentence from its cue flags."""
    planned_only = PLANNED in flags and "past" not in flags and "readout" not in flags
    if "refusal" in flags and not flags & {"readout", "past"}:
        return REFUSED  # "declined to take his calls", "tried to reach him, in vain"
    if UNCERTAIN in flags:
        if planned_only and SOURCED not in flags:
            # "could not confirm the date of the call" hedges a plan; "arranged a secret
            # meeting, according to officials" is the sources' report of a contact
            return PLANNED
        if "earlier" in flags:
            # "after initially declining to confirm it" is superseded by what followed
            return CONFIRMED if CONFIRMED in flags else CLAIM
        return UNCERTAIN
    for refusal in (DENIAL, NEGATION):
        if refusal in flags:
            # "no such call is planned" refuses a plan, not a contact that was claimed
            return PLANNED if planned_only else refusal
    if BACKGROUND in flags:
        return BACKGROUND
    if "long_ago" in flags and not flags & _ATTRIBUTED and not planned_only:
        return BACKGROUND  # "the call they held three weeks ago", told as known fact
    if "readout" in flags:
        return CONFIRMED
    if planned_only:
        return PLANNED
    if CONFIRMED in flags:
        return CONFIRMED
    if SOURCED in flags:
        return SOURCED
    if CLAIM in flags or "media" in flags or SILENCE in flags:
        return CLAIM  # one side, or the press, says it; or a side keeps silent
    if flags & {"source", "official"}:
        return CONFIRMED  # an official on the record tells it as fact
    if "assertion" in flags:
        return CLAIM  # someone else says it happened
    return REPORTED


def find_mentions(sentences: list[Sentence], title: str | None, text: str,
                  cues: Cues) -> list[Mention]:
    """Contact sentences of the title and the article, in reading order."""
    norms = [s.norm for s in sentences]
    originals = [text[s.start:s.end] for s in sentences]
    headings = [s.heading for s in sentences]
    if title:
        norms = [normalize_line(title)] + norms
        originals = [title.strip()] + originals
        headings = [True] + headings
    facts = scan(norms, cues)
    mentioned = [False] * len(norms)
    mentions = []
    offset = 1 if title else 0
    opens_on_other = False
    for i in range(len(norms)):
        if i == 1 and title:
            opens_on_other = _opens_on_other_contact(facts[0], mentioned[0])
        if not _is_contact_sentence(i, facts, mentioned):
            continue
        mentioned[i] = True
        flags = facts[i].flags
        previous = mentions[-1] if mentions else None
        follows_plan = (previous is not None and previous.position == i - offset - 1
                        and previous.status == PLANNED)
        if UNCERTAIN in flags and not (facts[i].contact or facts[i].contact_weak):
            # with no contact word it speaks of the sentence before: "Neither side
            # confirmed a date." after a plan hedges the plan; "The Kremlin has not yet
            # confirmed it." after a report is about the confirming, not a plan
            flags = flags | {PLANNED} if follows_plan else flags - {PLANNED}
        status = status_of(flags)
        if (previous is not None and previous.position == i - offset - 1
                and previous.status == BACKGROUND and status in (REPORTED, CONFIRMED)
                and not (facts[i].ru or facts[i].us)):
            # "The presidents last spoke in May. It was their first call in years." goes on
            # about the older contact
            status = BACKGROUND
        mentions.append(Mention(i - offset, originals[i], status, facts[i], headings[i],
                               aside=opens_on_other))
    return mentions


def _opens_on_other_contact(title: Facts, title_mentioned: bool) -> bool:
    """The title tells a contact with a third leader ("Merz spoke with Trump") and names
    only one side: the article's subject is that contact. (A first sentence is no such
    guide: it may be a subtitle on a side point.)"""
    return (not title_mentioned and title.other and (title.contact or title.contact_weak)
            and (title.ru or title.us) and not (title.ru and title.us))


_SIDES = ("ru", "us")
_CONTACT_WORDS = ("contact", "contact_weak")


def may_report_contact(title: str | None, text: str, cues: Cues) -> bool:
    """A cheap necessary condition for any contact sentence: the page has a contact
    word and names a side somewhere. Most pages of a crawl do neither, and splitting
    them into sentences was most of the classifier's time on them.

    Why it is necessary: a first contact sentence needs a word-list contact word (the
    regular-expression cues are read only near one, see `scan`) and a side named in
    it or just before it (`_is_contact_sentence`); later ones follow a first."""
    whole = normalize(f"{title or ''}\n{text}")
    index = cues.index
    if not index.has_any(whole, _CONTACT_WORDS):
        return False
    return index.has_any(whole, _SIDES) or any(cue.category in _SIDES for cue in index.raw)


def article_sentences(title: str | None, text: str, cues: Cues) -> list[Sentence]:
    """The sentences of the article the page is about (see classify.text)."""
    blocks = page_blocks(text, cues)
    articles = split_articles(blocks, text)
    if not articles:
        return []
    title_norm = normalize_line(title).strip() if title else ""
    chosen = None
    if title_norm:
        for article in articles:
            if any(b.kind == "heading" and matches_title(b.norm, title_norm) for b in article):
                chosen = article
                break
    if chosen is None:
        chosen = _first_news_article(articles, cues)
    sentences = []
    for block in chosen:
        if block.kind == "heading":
            if title_norm and matches_title(block.norm, title_norm):
                continue  # the title is read separately
            sentences.append(Sentence(block.start, block.end, block.norm, heading=True))
            continue
        for start, end in split_sentences(text, block.start, block.end, cues):
            sentences.append(Sentence(start, end, normalize_line(text[start:end]).strip()))
    return sentences


def _first_news_article(articles: list[list], cues: Cues) -> list:
    """The first article naming any actor: pages open with furniture, not news."""
    for article in articles:
        joined = "\n".join(b.norm for b in article)
        if cues.index.has_any(joined, ("ru", "us", "other")):  # actors need no regex cues
            return article
    for article in articles:
        if any(b.kind == "text" for b in article):
            return article
    return articles[0]


def _weight(position: int) -> float:
    """How much a sentence speaks for the article: title and lead most."""
    if position < 0:
        return 3.0
    if position < LEAD_SENTENCES:
        return 2.0
    if position < 15:
        return 1.0
    return 0.5


def is_contact_story(mentions: list[Mention]) -> bool:
    """Mainly about a contact: one in the title or lead, or several in the article."""
    if any(m.position < 0 and m.status != BACKGROUND for m in mentions):
        return True  # the headline states the subject, even a denial
    # a plan named beside a third leader ("spoke with Zelensky, before the planned
    # summit with Putin"), or in an article whose title is a third leader's contact, is
    # that leader's story's context, not its subject; so is a mere openness to talks said
    # in passing ("asked about Russia, he said Putin was difficult but did not rule out
    # more talks"), unless the headline or the first sentence says it; an open
    # question ("did not say whether he would call Putin") is nobody's plan
    counted = [m for m in mentions if m.status != BACKGROUND
               and not (m.status == PLANNED
                        and (m.facts.other or m.aside or QUESTION in m.facts.flags
                             or ("openness" in m.facts.flags and m.position > 0)))]
    if any(m.position < LEAD_SENTENCES and m.status != NEGATION for m in counted):
        return True
    return len(counted) >= MIN_MENTIONS


def decide(mentions: list[Mention]) -> tuple[str, Mention | None]:
    """Call status of a contact story and the mention that decides it.

    Order: a hedge or non-confirmation anywhere wins (that is what the alert is for);
    then one side's denial of what only the other side says happened; then a side's
    silence about what only a speaker's word supports; then an official confirmation
    (a denial or anonymous sources beside one are about details, such as the date);
    then anonymous sources; then a denial or a "there was no call" beside a claim; then
    claims against plain reports, weighed by position; then plans."""
    if _plan_is_the_subject(mentions):
        mentions = [m for m in mentions if not _aside_of_a_plan(m)]
    by_status: dict[str, list[Mention]] = {}
    for m in mentions:
        by_status.setdefault(m.status, []).append(m)

    def first(status: str) -> Mention:
        return _evidence(by_status[status])

    if UNCERTAIN in by_status:
        return "unconfirmed", first(UNCERTAIN)
    denied = _denied_by_the_other_side(mentions)
    if denied is not None:
        return "unconfirmed", denied
    told = [m for m in mentions if m.status not in (BACKGROUND, PLANNED, REFUSED)]
    spoken_of = any(m.facts.flags & _SPOKEN_OF for m in told)  # as having happened
    silent = [m for m in told if m.status == CLAIM and SILENCE in m.facts.flags
              and (m.facts.ru or m.facts.us)]
    if (silent and any(m.facts.flags & _TOLD for m in told)
            and not any(m.facts.flags & _VOUCHED for m in told)):
        # one side's speaker tells of it, the other side says nothing, no readout: a claim
        return "unconfirmed", _evidence(silent)
    confirmed = by_status.get(CONFIRMED, [])
    explicit = [m for m in confirmed if m.facts.flags & {CONFIRMED, "readout", "source"}]
    if confirmed and (explicit or SOURCED not in by_status):
        # an older contact recalled as background does not make this one have happened
        happened = any(m.facts.flags & {"past", "readout"} for m in mentions
                       if m.status != BACKGROUND)
        if happened or PLANNED not in by_status:
            return "confirmed", _evidence(explicit or confirmed)
        # "The meeting was confirmed by the Kremlin" beside "the talks will take place
        # tomorrow": a confirmed plan, no contact reported as having happened
        return "none", first(PLANNED)
    if SOURCED in by_status:
        # anonymous sources, and no side's explicit confirmation: an official "said" in
        # the headline of such a story is the sources' word
        return "unconfirmed", first(SOURCED)
    press = [m for m in mentions if m.status == CLAIM and "media" in m.facts.flags
             and m.position < LEAD_SENTENCES]
    if press:
        # the press reports it in the title or lead and no side confirms: what follows
        # retells the report
        return "unconfirmed", _evidence(press)
    # someone says it happened: a side's claim, the press or anonymous sources
    claimed = any(m.facts.flags & {CLAIM, "assertion", "media", SOURCED} for m in mentions)
    for refusal in (DENIAL, NEGATION):
        if refusal in by_status and claimed:
            return "unconfirmed", first(refusal)
    # a side's silence weighs as a claim only beside something told of as having happened
    claim = sum(_weight(m.position) for m in by_status.get(CLAIM, [])
                if m.facts.flags & {CLAIM, "media"} or spoken_of)
    reported = sum(_reported_weight(m) for m in by_status.get(REPORTED, []))
    planned = sum(_weight(m.position)
                  for m in by_status.get(PLANNED, []) + by_status.get(REFUSED, []))
    if claim and claim >= reported:
        return "unconfirmed", first(CLAIM)
    if REPORTED in by_status:
        past = any("past" in m.facts.flags for m in by_status[REPORTED])
        if past or reported > planned:
            return "confirmed", first(REPORTED)
    if PLANNED in by_status or REFUSED in by_status:
        # the plan or refusal that says why no contact is reported, the earliest first
        why = sorted(by_status.get(PLANNED, []) + by_status.get(REFUSED, []),
                     key=lambda m: m.position)
        return "none", _evidence(why)
    for refusal in (DENIAL, NEGATION):
        if refusal in by_status:
            return "none", first(refusal)  # a denial with nothing claimed
    if mentions:
        return "none", _evidence(mentions)
    return "none", None


# A speaker tells of the contact as having happened; with the press and anonymous
# sources, it is spoken of so; what vouches for it beyond one speaker's word: a readout,
# a confirmation, an official source on the record.
_TOLD = frozenset({"past", "assertion", CLAIM})
_SPOKEN_OF = _TOLD | {"media", SOURCED}
_VOUCHED = frozenset({"readout", CONFIRMED, "source"})
_SAYS_IT_HAPPENED = {"past", "readout", "assertion", SOURCED, DENIAL, NEGATION}


def _speaking_side(m: Mention) -> str | None:
    """The side whose institutions or spokespeople the sentence names, when only one."""
    ru, us = "speaker_ru" in m.facts.flags, "speaker_us" in m.facts.flags
    return "ru" if ru and not us else "us" if us and not ru else None


def _denied_by_the_other_side(mentions: list[Mention]) -> Mention | None:
    """One side says the contact did not take place, and only the other side (or a speaker
    of neither) says it did: "the Kremlin said they spoke; the White House said no such
    call took place". Returns the denial. A denial beside its own side's account of the
    contact is about details ("confirmed the call, denied that sanctions came up"), and
    a denial with no sentence saying no contact took place may be about details too."""
    refusals = [m for m in mentions if m.status in (DENIAL, NEGATION)]
    sides = {_speaking_side(m) for m in refusals} - {None}
    if len(sides) != 1:
        return None
    side = sides.pop()
    # the side says no contact took place: in its denial, or in the unattributed "no such
    # call took place" right after it
    theirs = [m.position for m in refusals if _speaking_side(m) == side]
    if not any(NEGATION in m.facts.flags and (_speaking_side(m) == side or (
            _speaking_side(m) is None and any(0 < m.position - p <= WINDOW for p in theirs)))
            for m in refusals):
        return None
    affirmed = [m for m in mentions if m.status in (CONFIRMED, REPORTED, CLAIM)
                and m.facts.flags & {"past", "assertion", "readout", CONFIRMED, "source"}]
    if any(_speaking_side(m) == side for m in affirmed):
        return None
    # someone's word that it happened: the other side's, or a speaker's ("Trump said he
    # had spoken"); a contact the article reports as plain fact is not one side's word
    said = [m for m in affirmed if _speaking_side(m) is not None
            or m.facts.flags & {"assertion", CLAIM}]
    if not said:
        return None
    return _evidence([m for m in refusals if _speaking_side(m) == side])


def _plan_is_the_subject(mentions: list[Mention]) -> bool:
    """The article opens on a plan (its first contact sentence, after any background, is a
    plan or a refusal), and nothing in its title or lead says a contact happened or was
    claimed: then the article is about the planned contact."""
    first = next((m for m in mentions if m.status != BACKGROUND), None)
    if first is None or first.status not in (PLANNED, REFUSED):
        return False
    if first.facts.flags & {UNCERTAIN, CLAIM}:
        return False  # "possibly there were contacts": a hedge, not a plan
    lead = [m for m in mentions if m.position < LEAD_SENTENCES and m.status != BACKGROUND]
    return not any(m.facts.flags & _SAYS_IT_HAPPENED or m.status == SOURCED for m in lead)


def _aside_of_a_plan(m: Mention) -> bool:
    """In an article about a plan: a contact told as fact later in the body (an older one,
    or the plan told again), or a hedge that does not say a contact happened ("did not confirm
    a new round of talks", "declined to comment on the meeting")."""
    if m.status == REPORTED:
        # told as fact past the lead, even in the past tense ("what happened at the
        # one-on-one in Helsinki"): the older contact the plan follows
        return m.position >= LEAD_SENTENCES
    if m.facts.flags & _SAYS_IT_HAPPENED:
        return False
    return m.status in (UNCERTAIN, CLAIM)


def _reported_weight(m: Mention) -> float:
    """A headline without any cue ("Putin, Trump talk by phone") names the subject,
    not its status: present-tense headlines serve past calls and planned ones alike."""
    if m.position < 0 and "past" not in m.facts.flags:
        return 1.0
    return _weight(m.position)


def _evidence(mentions: list[Mention]) -> Mention:
    """The first such sentence of the body text; a headline only when there is none."""
    body = [m for m in mentions if not m.heading]
    return (body or mentions)[0]
