"""Pages built to break the extractor: JSON-LD nested thousands deep, a million
paragraphs, UTF-16 without a byte-order mark. Each gives its article, or the one
exception the extractor raises (ExtractionLimit), never anything else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extract import ExtractionLimit, extract
from extract.article import MAX_ELEMENTS
from extract.charset import decode_html, looks_like_html

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Ferry service resumes after storm"
PARAGRAPHS = [
    "The island ferry sailed again on Thursday morning after three days in port, as the "
    "storm that closed the strait moved north and the swell dropped below two metres.",
    "Harbour staff said the first crossing carried mostly delivery vans and nurses on their "
    "way to the hospital, and that timetables would be back to normal by the weekend.",
    "Passengers stranded on the mainland were offered free tickets for the next sailing.",
]


def page(head: str = "", body_extra: str = "", charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">'
            f"<title>{TITLE}</title>{head}</head><body><article><h1>{TITLE}</h1>"
            f"{paragraphs}{body_extra}</article></body></html>")


def ld_script(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


@pytest.mark.parametrize("nested", [
    "[" * 2000 + "]" * 2000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    json.dumps({"@type": "NewsArticle", "headline": "Deep", "x": [[[[[[]]]]]]})[:-1]
    + ', "y": ' + "[" * 900 + "]" * 900 + "}",
    '{"@type": "NewsArticle", "wordCount": ' + "7" * 5000 + "}",
])
def test_hostile_json_ld_is_ignored_and_the_article_kept(nested):
    found = extract(page(ld_script(nested)).encode(), "https://ferry.example/news/1")
    assert "swell dropped below two metres" in found.text
    assert "free tickets" in found.text
    assert found.title in (TITLE, "Deep")


def test_an_article_nested_in_json_ld_graphs_is_still_read():
    ld = {"@graph": [{"@type": "WebPage"}, {"items": [{"@type": "NewsArticle",
                                                        "headline": "From the graph",
                                                        "author": {"name": "Desk Writer"}}]}]}
    found = extract(page(ld_script(json.dumps(ld))).encode(), "https://ferry.example/news/2")
    assert found.title == "From the graph"
    assert "Passengers stranded" in found.text


def test_a_million_paragraphs_are_refused_unparsed():
    body = ("<html><head><title>x</title></head><body>" + "<p>x</p>" * 1_000_000
            + "</body></html>").encode()
    with pytest.raises(ExtractionLimit, match=f"more than the {MAX_ELEMENTS:,}"):
        extract(body, "https://ferry.example/huge")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(codec):
    html = page(charset="utf-16").replace(PARAGRAPHS[2], "Пассажирам выдали бесплатные "
                                          "билеты на следующий рейс. " + PARAGRAPHS[2])
    raw = html.encode(codec)
    assert not raw.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in raw[:10]
    assert looks_like_html(raw)
    assert decode_html(raw) == html
    found = extract(raw, "https://ferry.example/news/3")
    assert found.title == TITLE
    assert "Пассажирам выдали бесплатные билеты" in found.text


@pytest.mark.parametrize("raw", [
    bytes(range(256)) * 64,  # binary
    "Ferry timetable: no markup here at all, only a short line of text.".encode("utf-16-le"),
    b"\x00" * 4096,
])
def test_binary_and_markupless_bytes_are_not_taken_for_utf16_html(raw):
    assert not looks_like_html(raw)


def test_extract_command_names_the_limit_in_one_line(tmp_path):
    wall = tmp_path / "wall.html"
    wall.write_text("<html><body>" + "<p>x</p>" * (MAX_ELEMENTS + 10) + "</body></html>")
    good = tmp_path / "good.html"
    good.write_text(page())
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env["BACKCHANNEL_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, "-m", "backchannel", "extract", str(wall),
                             str(good)], env=env, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"backchannel extract: {wall}: page has "
                                     f"{MAX_ELEMENTS + 12:,} elements, more than the "
                                     f"{MAX_ELEMENTS:,} the extractor reads")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "more than the" in first["error"] and second["title"] == TITLE
