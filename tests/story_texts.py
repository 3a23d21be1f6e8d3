"""Invented articles about two contacts of one fortnight, and a way to store them as
classified articles: for the story tests (regrouping, curation)."""

from __future__ import annotations

from datetime import datetime

from archive.store import ArticleRecord, store_article

# Two contacts of the same fortnight: a claimed Putin–Trump call about a prisoner swap,
# and a Lavrov–Rubio meeting on embassies. Different leaders, different words.
CALL = [
    "A Moscow newspaper reported on Tuesday that Vladimir Putin and Donald Trump spoke by "
    "telephone about a prisoner exchange, citing two people familiar with the conversation. "
    "Kremlin spokesman Dmitry Peskov told reporters he could neither confirm nor deny that "
    "the presidents had talked. The newspaper said the call lasted forty minutes and covered "
    "the names of prisoners held in both countries, as well as the timing of a possible swap "
    "at an airport in the Gulf. The White House declined to comment on the report.",
    "Donald Trump and Vladimir Putin may have discussed a prisoner exchange by telephone this "
    "week, according to people familiar with the conversation quoted by a Moscow newspaper. "
    "Peskov would neither confirm nor deny that the presidents had talked, and the White "
    "House declined to comment. The people said the prisoners held in both countries were "
    "named and a swap at a Gulf airport was discussed, with no date agreed.",
]
MEETING = [
    "Sergei Lavrov and Marco Rubio met in Istanbul on Thursday to discuss the staffing of "
    "embassies, diplomatic property seized years ago and direct flights, the Russian foreign "
    "ministry said. The State Department confirmed the meeting and said the diplomats agreed "
    "to a further round on consular matters. Both delegations described the talks on "
    "embassies and property as businesslike, and no statement on visas was issued.",
    "The foreign ministers Lavrov and Rubio held talks in Istanbul about embassy staffing, "
    "seized diplomatic property and the return of direct flights, both ministries confirmed. "
    "Officials said consular matters would be taken up at a further round, and the "
    "delegations called the discussion of embassies and property businesslike.",
]


def add(db, key: str, outlet: str, day: str, text: str, status: str = "unconfirmed") -> int:
    result = store_article(db, ArticleRecord(
        url=f"https://{outlet.lower().replace(' ', '-')}.example/{key}", outlet=outlet,
        text=text, title=None, published_at=datetime.fromisoformat(f"{day}T10:00:00+00:00"),
        language="en"))
    db.execute("UPDATE articles SET contact_story = true, call_status = %s, evidence = %s "
               "WHERE id = %s", (status, text.split(". ")[0], result.article_id))
    return result.article_id
