"""`backchannel search`, `show` and `export` as a user runs them, over an archive filled
by a real crawl of the test newsroom."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import run_cli


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_search_prints_json_lines_when_piped(crawled_archive):
    result = run_cli(["search", "Geneva envoy"], crawled_archive.env)
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert {r["url"] for r in rows} == {crawled_archive.urls["geneva-1"],
                                        crawled_archive.urls["geneva-2"]}
    assert all(r["snippet"] and "\x02" not in r["snippet"] for r in rows)
    assert rows[0]["rank"] >= rows[1]["rank"]


def test_search_filters_and_formats(crawled_archive):
    env = crawled_archive.env
    confirmed = lines(run_cli(["search", "Kremlin", "--status", "confirmed"], env).stdout)
    assert [r["url"] for r in confirmed] == [crawled_archive.urls["phone-confirmed"]]
    russian = lines(run_cli(["search", "--language", "ru"], env).stdout)
    assert [r["url"] for r in russian] == [crawled_archive.urls["peskov-ru"]]
    dated = lines(run_cli(["search", "Geneva", "--since", "2025-04-03", "--outlet",
                           "VALLEY TIMES"], env).stdout)
    assert [r["url"] for r in dated] == [crawled_archive.urls["geneva-2"]]
    table = run_cli(["search", "Geneva", "--format", "table"], env).stdout
    assert "Envoy said to have met Kremlin aide in Geneva" in table
    assert "2 matches, 2 shown (page 1)" in table
    rows = list(csv.DictReader(io.StringIO(
        run_cli(["search", "Geneva", "--format", "csv"], env).stdout)))
    assert len(rows) == 2 and rows[0]["outlet"] in ("Harbour Post", "Valley Times")


def test_search_pages_are_stable(crawled_archive):
    env = crawled_archive.env
    every = [r["id"] for r in lines(run_cli(["search", "--limit", "200"], env).stdout)]
    first = [r["id"] for r in lines(run_cli(["search", "--limit", "3"], env).stdout)]
    second = [r["id"] for r in lines(run_cli(["search", "--limit", "3", "--page", "2"],
                                             env).stdout)]
    assert first + second == every[:6]


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last week"], "since: 'last week' is not a date"),
    (["--story", "x"], "story: 'x' is not a story number"),
    (["--limit", "5000"], "limit: must be from 1 to 200"),
])
def test_bad_filters_exit_2_with_the_reason(crawled_archive, args, message):
    result = run_cli(["search", "Geneva", *args], crawled_archive.env)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_show_by_url_and_id(crawled_archive):
    env = crawled_archive.env
    text = run_cli(["show", crawled_archive.urls["geneva-1"]], env)
    assert text.returncode == 0
    assert "outlet:     Harbour Post" in text.stdout
    assert "status:     contact story, call unconfirmed" in text.stdout
    assert "evidence:" in text.stdout and "story:" in text.stdout
    as_json = json.loads(run_cli(["show", crawled_archive.urls["geneva-1"], "--format",
                                  "json"], env).stdout)
    by_id = json.loads(run_cli(["show", str(as_json["id"]), "--format", "json"], env).stdout)
    assert by_id["url"] == crawled_archive.urls["geneva-1"] and by_id["text"]
    missing = run_cli(["show", "999999"], env)
    assert missing.returncode == 1 and "no article 999999" in missing.stderr


def test_show_names_copies(crawled_archive, seeds_dir):
    original = run_cli(["show", crawled_archive.urls["000"]], crawled_archive.env).stdout
    copy = run_cli(["show", crawled_archive.urls["001"]], crawled_archive.env).stdout
    assert "copied by:  #" in original and crawled_archive.urls["001"] in original
    assert "copy of:    #" in copy and crawled_archive.urls["000"] in copy


def test_export_streams_everything_matching(crawled_archive):
    env = crawled_archive.env
    every = lines(run_cli(["export"], env).stdout)
    total = len(lines(run_cli(["search", "--limit", "200"], env).stdout))
    assert len(every) == total and all(r["text"] for r in every)
    dates = [r["published_at"] or r["fetched_at"] for r in every]
    assert dates == sorted(dates)  # oldest first
    harbour = run_cli(["export", "--outlet", "Harbour Post", "--format", "csv",
                       "--no-text"], env)
    rows = list(csv.DictReader(io.StringIO(harbour.stdout)))
    assert [r["url"] for r in rows] == [crawled_archive.urls["geneva-1"],
                                        crawled_archive.urls["markets"]]
    assert "text" not in rows[0] and "exported 2 articles" in harbour.stderr
    bad = run_cli(["export", "--status", "maybe"], env)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_several_words_are_one_query_and_a_leading_minus_follows_two_dashes(crawled_archive):
    env = crawled_archive.env
    both = lines(run_cli(["search", "Geneva", "envoy"], env).stdout)
    assert {r["url"] for r in both} == {crawled_archive.urls["geneva-1"],
                                        crawled_archive.urls["geneva-2"]}
    without = run_cli(["search", "--", "-villa", "Geneva"], env)
    assert without.returncode == 0, without.stderr
    assert [r["url"] for r in lines(without.stdout)] == [crawled_archive.urls["geneva-1"]]


def test_an_unknown_outlet_is_an_error_naming_the_close_ones(crawled_archive):
    result = run_cli(["search", "Geneva", "--outlet", "Valley Tims"], crawled_archive.env)
    assert result.returncode == 2 and result.stdout == ""
    assert "--outlet 'Valley Tims': no such outlet" in result.stderr
    assert "did you mean 'Valley Times'" in result.stderr


def test_show_finds_a_url_as_the_crawl_stored_it(crawled_archive):
    url = crawled_archive.urls["geneva-1"]
    tracked = run_cli(["show", url + "?utm_source=newsletter&utm_medium=email", "--format",
                       "json"], crawled_archive.env)
    assert tracked.returncode == 0, tracked.stderr
    assert json.loads(tracked.stdout)["url"] == url
    huge = run_cli(["show", "9" * 5000], crawled_archive.env)
    assert huge.returncode == 1 and "no article" in huge.stderr
    assert "Traceback" not in huge.stderr


def test_stories_json_is_json_lines(crawled_archive):
    result = run_cli(["stories", "--format", "json"], crawled_archive.env)
    rows = lines(result.stdout)
    assert len(rows) == len(result.stdout.strip().splitlines()) >= 2
    assert all("id" in row and "outlets" in row for row in rows)
