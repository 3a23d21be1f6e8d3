"""Search over an archive filled by a real crawl of the test newsroom: query syntax,
filters, ranking, snippets, paging, export, one article, reports per day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from archive.search import (
    HIGHLIGHT_START,
    MAX_PERIODS,
    SearchError,
    export,
    get_article,
    make_filters,
    period_lexemes,
    plain,
    reports_per_day,
    search,
    window_periods,
)
from archive.store import ArticleRecord, store_article


@pytest.fixture(scope="module")
def conn(crawled_archive):
    with psycopg.connect(crawled_archive.database_url, autocommit=True,
                         row_factory=dict_row) as connection:
        yield connection


def keys(archive, page) -> list[str]:
    by_url = {url: key for key, url in archive.urls.items()}
    return [by_url.get(row["url"], row["url"]) for row in page.results]


def test_words_phrases_or_and_exclusions(crawled_archive, conn):
    find = lambda q, **kw: keys(crawled_archive, search(conn, make_filters(q, **kw)))  # noqa: E731
    assert set(find("Geneva envoy")) == {"geneva-1", "geneva-2"}
    assert find('"villa near the lake"') == ["geneva-2"]
    assert set(find("villa OR ushakov")) == {"geneva-2", "phone-confirmed"}
    assert find("Geneva -villa") == ["geneva-1"]
    assert find("meetings") and set(find("meetings")) >= {"geneva-1", "geneva-2"}  # stemmed
    assert find("разговоре Пескова") == ["peskov-ru"]  # Russian stemming: Песков ~ Пескова
    assert find("nonexistentword") == []


def test_filters_narrow_the_results(crawled_archive, conn):
    def find(**kw):
        return set(keys(crawled_archive, search(conn, make_filters(**kw), limit=200)))

    assert find(query="prisoner exchange", outlets=["valley times"]) == {"geneva-2"}
    assert find(query="Kremlin", status="confirmed") == {"phone-confirmed"}
    assert "markets" in find(status="none") and "geneva-1" not in find(status="none")
    assert find(language="ru") == {"peskov-ru"}
    assert find(query="Geneva", since="2025-04-03") == {"geneva-2"}
    assert find(query="Geneva", until="2025-04-02") == {"geneva-1"}  # until includes its day
    story = conn.execute("SELECT story_id FROM story_articles sa JOIN articles a ON "
                         "a.id = sa.article_id WHERE a.url = %s",
                         (crawled_archive.urls["geneva-1"],)).fetchone()["story_id"]
    assert find(story=story) == {"geneva-1", "geneva-2"}


def test_results_are_ranked_with_highlighted_snippets(crawled_archive, conn):
    page = search(conn, make_filters("prisoner exchange Geneva"))
    top = page.results[0]
    assert top["rank"] >= page.results[-1]["rank"]
    assert f"{HIGHLIGHT_START}Geneva" in top["snippet"] or \
        f"{HIGHLIGHT_START}prisoner" in top["snippet"]
    assert "\x02" not in plain(top["snippet"])


def test_paging_is_stable_and_complete(crawled_archive, conn):
    every = [r["id"] for r in search(conn, make_filters(), limit=200).results]
    paged = []
    for number in range(1, len(every) + 1):
        paged += [r["id"] for r in search(conn, make_filters(), limit=1, page=number).results]
    assert paged == every and len(set(every)) == len(every)
    counted = search(conn, make_filters("Geneva"), count=True)
    assert counted.total == 2 and not counted.total_capped


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"since": "yesterday"}, "since: 'yesterday' is not a date"),
    ({"until": "2025-13-01"}, "until: '2025-13-01' is not a date"),
    ({"status": "rumoured"}, "status: 'rumoured' is not one of"),
    ({"story": "seven"}, "story: 'seven' is not a story number"),
    ({"language": "english!"}, "language:"),
    ({"since": "2025-05-01", "until": "2025-04-01"}, "since: must be before until"),
    ({"query": "x" * 501}, "query: at most 500"),
])
def test_bad_filters_are_named(kwargs, message):
    with pytest.raises(SearchError, match=message):
        make_filters(**kwargs)


@pytest.mark.parametrize("hostile", [
    "'; DROP TABLE articles; --", "\\", "a & b | !c", "((((", "\"unclosed phrase",
    "-", "OR OR OR", "Geneva' OR '1'='1", "%_%", ":*", "<->",
])
def test_odd_queries_are_just_text(conn, hostile):
    search(conn, make_filters(hostile))  # no error, no injection
    assert conn.execute("SELECT count(*) AS n FROM articles").fetchone()["n"] > 0


def test_limits_are_capped(conn):
    with pytest.raises(SearchError, match="limit"):
        search(conn, make_filters(), limit=10_000)
    with pytest.raises(SearchError, match="page"):
        search(conn, make_filters(), page=0)


def test_export_streams_every_match_oldest_first(crawled_archive):
    with psycopg.connect(crawled_archive.database_url, row_factory=dict_row) as conn:
        rows = list(export(conn, make_filters(outlets=["Harbour Post"]), batch=1))
    assert [r["url"] for r in rows] == [crawled_archive.urls["geneva-1"],
                                        crawled_archive.urls["markets"]]
    assert rows[0]["text"] and rows[0]["call_status"] == "unconfirmed"


def test_one_article_by_id_or_url_with_its_story(crawled_archive, conn):
    article = get_article(conn, crawled_archive.urls["geneva-2"])
    assert article["outlet"] == "Valley Times" and article["story_id"]
    assert article["story_status"] == "unconfirmed" and article["evidence"]
    assert get_article(conn, article["id"])["url"] == crawled_archive.urls["geneva-2"]
    assert get_article(conn, "https://nowhere.example/x") is None


def test_seed_copy_is_shown_on_both_sides(crawled_archive, conn, seeds_dir):
    copy = get_article(conn, crawled_archive.urls["001"])
    original = get_article(conn, crawled_archive.urls["000"])
    assert copy["copy_of"]["url"] == crawled_archive.urls["000"]
    assert [c["url"] for c in original["copies"]] == [crawled_archive.urls["001"]]


def test_reports_per_day(conn):
    days = {row["day"]: row["reports"] for row in reports_per_day(conn)}
    assert days[date(2025, 4, 2)] == 1 and days[date(2025, 4, 3)] == 1
    assert date(2025, 4, 10) not in days  # that call was confirmed
    confirmed = reports_per_day(conn, status="confirmed")
    assert {row["day"] for row in confirmed} >= {date(2025, 4, 10)}


# Date windows reach the search indexes as day and month lexemes (migration 9): the
# cover must hold every moment of the window, or a search would silently miss articles.

def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("since", "until", "expected"), [
    (utc(2025, 3, 15), utc(2025, 3, 18), ["day 20250315", "day 20250316", "day 20250317"]),
    (utc(2025, 3, 1), utc(2025, 5, 1), ["month 202503", "month 202504"]),
    (utc(2025, 3, 30), utc(2025, 5, 2),
     ["day 20250330", "day 20250331", "month 202504", "day 20250501"]),
    (utc(2025, 3, 15, 23), utc(2025, 3, 16), ["day 20250315"]),  # until is exclusive
    (utc(2025, 3, 15, 23), utc(2025, 3, 16, 0, 0, 0, 1), ["day 20250315", "day 20250316"]),
    (datetime(2025, 3, 16, 1, tzinfo=timezone(timedelta(hours=3))),  # 22:00 UTC the day before
     datetime(2025, 3, 16, 2, tzinfo=timezone(timedelta(hours=3))), ["day 20250315"]),
    (utc(2024, 12, 31), utc(2025, 1, 2), ["day 20241231", "day 20250101"]),
    (utc(2024, 2, 1), utc(2024, 3, 1), ["month 202402"]),  # a leap February, whole
    (utc(9999, 12, 1), datetime.max.replace(tzinfo=UTC), ["month 999912"]),
    (utc(2020, 1, 15), utc(2026, 1, 15), None),  # too many: the date index alone
    # days Python cannot hold in UTC: the first and last there are
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=1))), utc(1, 1, 2), ["day 10101"]),
    (utc(9999, 12, 31), datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
     ["day 99991231"]),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=1))),
     datetime(1, 1, 1, 0, 0, 30, tzinfo=timezone(timedelta(minutes=1))), ["day 10101"]),
])
def test_period_lexemes_cover_the_window(since, until, expected):
    assert period_lexemes(since, until) == expected


def lexemes_of(moment: datetime) -> set[str]:
    day = moment.astimezone(UTC)
    return {f"day {day:%Y%m%d}", f"month {day:%Y%m}"}


@settings(max_examples=300, deadline=None)
@given(since=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1),
                          timezones=st.just(UTC)),
       length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=900)),
       share=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_every_moment_of_a_window_is_covered(since, length, share):
    lexemes = period_lexemes(since, since + length)
    if lexemes is None:
        return
    assert len(lexemes) <= MAX_PERIODS
    for moment in (since, since + length - timedelta(microseconds=1), since + length * share):
        assert lexemes_of(moment) & set(lexemes), (moment, lexemes)


REPORTED = [  # (published_at, language): day and month edges, time zones, the far future
    (utc(2025, 3, 14, 23, 59, 59, 999999), "en"), (utc(2025, 3, 15), "en"),
    (utc(2025, 3, 31, 23, 59, 59), "ru"), (utc(2025, 4, 1), "en"),
    (utc(2025, 4, 30, 12), "uk"), (utc(2025, 5, 1), "en"),
    (datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2))), "en"),
    (utc(2031, 1, 1), "en"), (None, "en"),  # no date: reported when fetched
]
WINDOWS = [  # (since, until) as a user types them; until includes its day
    ("2025-03-15", "2025-03-15"), ("2025-03-14", "2025-03-31"), ("2025-04-01", "2025-04-30"),
    ("2025-03-15", None), ("2025-04-02", None), (None, "2025-03-31"), (None, "2025-01-01"),
    ("2025-01-01", "2025-01-01"), ("2024-12-31", "2024-12-31"), ("2020-01-01", "2030-12-31"),
    ("2025-03-15T00:00:00Z", "2025-03-15T00:00:00.000001Z"), ("2032-01-01", None),
    (None, "1999-01-01"),
]


@pytest.fixture
def dated_archive(db):
    """Articles that all match 'ceasefire envoy', reported at awkward moments."""
    for number, (published, language) in enumerate(REPORTED):
        words = {"ru": "перемирие посланник", "uk": "ceasefire envoy"}.get(
            language, "ceasefire envoy")
        store_article(db, ArticleRecord(
            url=f"https://dates.example/{number}", outlet="Dates", language=language,
            title=f"Report {number}", published_at=published,
            text=f"The {words} met again. " * 20))
    return {row["id"]: row["at"] for row in db.execute(
        "SELECT id, coalesce(published_at, fetched_at) AS at FROM articles")}


@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_search_in_a_window_finds_exactly_what_was_reported_in_it(dated_archive, db,
                                                                    since, until):
    filters = make_filters("ceasefire envoy OR перемирие", since=since, until=until)
    expected = {i for i, at in dated_archive.items()
                if (filters.since is None or at >= filters.since)
                and (filters.until is None or at < filters.until)}
    found = {row["id"] for row in search(db, filters, limit=200).results}
    assert found == expected
    assert search(db, filters, count=True).total == len(expected)
    with db.transaction():
        assert {row["id"] for row in export(db, filters)} == expected
    if since and until and filters.until - filters.since < timedelta(days=400):
        assert window_periods(db, filters)  # the indexes were given the window


def test_snippets_find_the_words_anywhere_in_the_text(db):
    filler = "Markets opened quietly and traders waited for the figures. " * 60
    store_article(db, ArticleRecord(
        url="https://deep.example/1", outlet="Deep", language="en", title="Late mention",
        text=filler + "Only here does the ceasefire envoy appear, near the end."))
    store_article(db, ArticleRecord(
        url="https://deep.example/2", outlet="Deep", language="en", title="Early mention",
        text="The ceasefire envoy arrived first thing. " + filler))
    snippets = {row["url"]: row["snippet"]
                for row in search(db, make_filters("ceasefire envoy")).results}
    assert len(filler) > 3000
    for url in ("https://deep.example/1", "https://deep.example/2"):
        assert f"{HIGHLIGHT_START}ceasefire" in snippets[url], snippets[url]
