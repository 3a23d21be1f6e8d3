"""Article extraction: hand-written pages with their expectations (tests/extract/pages/,
each NAME.html beside a NAME.json saying what it checks), the `backchannel extract`
command, and the benchmark scorer."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extract.article import extract
from extract.charset import decode_html
from extract.meta import normalise_date
from extract.text import drop_edge_boilerplate, strip_site_name

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "pages"
SHARED = Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared"))
BENCH_DATA = SHARED / "bench" / "article-extraction"
CASES = sorted(PAGES.glob("*.json"))


def load_bench():
    """bench/extraction.py as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench/extraction.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --- hand-written pages -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_page(case: Path) -> None:
    expected = json.loads(case.read_text(encoding="utf-8"))
    page = case.with_suffix(".html").read_bytes()
    found = extract(page, url=expected.get("url"), content_type=expected.get("content_type"))
    where = f"{case.stem}: {expected['about']}"

    if expected.get("empty"):
        assert found.text == "", where
    else:
        assert found.text, where
    for key in ("title", "published", "authors", "site_name", "language"):
        if key in expected:
            assert getattr(found, key) == expected[key], f"{where} ({key})"
    if "canonical" in expected:
        assert found.url == expected["canonical"], where
    for phrase in expected.get("contains", []):
        assert phrase in found.text, f"{where}: missing {phrase!r}"
    for phrase in expected.get("not_contains", []):
        assert phrase not in found.text, f"{where}: should not contain {phrase!r}"


def test_every_page_has_its_expectations() -> None:
    assert CASES, "no fixtures found"
    for page in PAGES.glob("*.html"):
        assert page.with_suffix(".json").exists(), f"{page.name} has no .json beside it"


# --- pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "iso"),
    [
        ("2025-02-10", "2025-02-10"),
        ("2025-02-10T09:30:00Z", "2025-02-10T09:30:00+00:00"),
        ("2025-02-10T09:30:00.123+0300", "2025-02-10T09:30:00+03:00"),
        ("2025-02-10 09:30", "2025-02-10T09:30:00"),
        ("20250210", "2025-02-10"),
        ("Mon, 10 Feb 2025 09:30:00 GMT", "2025-02-10T09:30:00+00:00"),
        ("2025-02-30", None),
        ("next Tuesday", None),
    ],
)
def test_dates_are_normalised_to_iso_8601(stamp: str, iso: str | None) -> None:
    assert normalise_date(stamp) == iso


def test_site_name_is_stripped_from_titles_but_headline_dashes_stay() -> None:
    host = "www.ledger.example"
    assert strip_site_name("Talks resume | The Ledger", "The Ledger", host) == "Talks resume"
    assert strip_site_name("Ledger - Talks resume", None, host) == "Talks resume"
    assert strip_site_name("Talks resume - ledger.example", None, host) == "Talks resume"
    kept = "Spider-Man: far - from home"
    assert strip_site_name(kept, "The Ledger", host) == kept


def test_share_and_newsletter_lines_at_the_edges_are_dropped() -> None:
    body = "First paragraph of the story.\nSecond paragraph of the story."
    text = f"{body}\nLike this story? Share it with a friend!\nSign up for our daily newsletter."
    assert drop_edge_boilerplate(text) == body
    wire = f"{body}\n© 2025 Example Wire. All rights reserved."
    assert drop_edge_boilerplate(wire) == wire  # tells a syndicated copy: kept


@pytest.mark.parametrize(
    "encoding", ["cp1251", "koi8-r", "cp1250", "cp1253", "gb18030", "cp932", "latin-1"]
)
def test_undeclared_legacy_encodings_are_detected(encoding: str) -> None:
    samples = {
        "cp1251": "Пресс-секретарь заявил, что не может ни подтвердить, ни опровергнуть "
        "сообщения о телефонном разговоре двух президентов на прошлой неделе.",
        "koi8-r": "Пресс-секретарь заявил, что не может ни подтвердить, ни опровергнуть "
        "сообщения о телефонном разговоре двух президентов на прошлой неделе.",
        "cp1250": "Rzecznik powiedział, że nie może ani potwierdzić, ani zaprzeczyć "
        "doniesieniom o rozmowie telefonicznej. Źródła twierdzą, że była długa. Według "
        "informatorów dotyczyła wymiany więźniów i cen energii.",
        "cp1253": "Ο εκπρόσωπος δήλωσε ότι δεν μπορεί ούτε να επιβεβαιώσει ούτε να "
        "διαψεύσει τις αναφορές για τηλεφωνική συνομιλία των δύο ηγετών.",
        "gb18030": "发言人表示，他既不能证实也不能否认两国领导人通电话的报道。"
        "据消息人士称，通话发生在上周。",
        "cp932": "報道官は、両首脳の電話会談に関する報道を確認も否定もできないと述べた。"
        "関係者によると、会談は先週行われた。",
        "latin-1": "Le porte-parole a déclaré qu'il ne pouvait ni confirmer ni démentir "
        "l'échange téléphonique évoqué par la presse à côté du palais.",
    }
    html = f"<html><head><title>x</title></head><body><p>{samples[encoding]}</p></body></html>"
    assert decode_html(html.encode(encoding)) == html


def test_a_declared_page_language_settles_a_short_page() -> None:
    page = '<html lang="ru"><body><h1>Кремль не подтвердил разговор.</h1></body></html>'
    assert decode_html(page.encode("cp1251")) == page
    assert decode_html(page.encode("koi8-r")) == page


def test_declared_latin1_is_read_as_windows_1252_and_utf8_wins_when_valid() -> None:
    page = '<meta charset="iso-8859-1"><p>It costs 5 € — “quoted”</p>'
    assert decode_html(page.encode("cp1252")) == page
    assert decode_html(page.encode("utf-8"), "text/html; charset=iso-8859-1") == page


def test_a_non_html_or_empty_page_gives_empty_text() -> None:
    assert extract(b"").text == ""
    assert extract("   ").text == ""
    assert extract(b"\x00\x01\x02 binary junk").text == ""


# --- the command --------------------------------------------------------------------------


def run_extract(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`backchannel extract ARGS` in a child process, as a user runs it."""
    script = Path(sys.executable).with_name("backchannel")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "backchannel"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    return subprocess.run(
        [*command, "extract", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env=env,
    )


def test_command_prints_one_json_line_per_file_in_order() -> None:
    first, second = PAGES / "meta-date-author.html", PAGES / "navigation-boxes.html"
    result = run_extract(str(first), str(second))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(second)]
    for line in lines:
        assert set(line) >= {"title", "text", "published", "authors", "outlet", "url"}
        assert {"language", "site_name"} <= set(line)
    assert lines[0]["title"] == "Envoy hints at second call between the leaders"
    assert lines[1]["title"] == "Kremlin declines to confirm leaders' phone call"
    # No --url: the outlet comes from the canonical URL the page states.
    assert lines[1]["outlet"] == "harbourledger.co.uk"


def test_command_url_option_names_the_page_and_its_outlet() -> None:
    page = PAGES / "cp1251-no-charset.html"
    result = run_extract(str(page), "--url", "https://m.novosti.example.ru/world/123")
    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["url"] == "https://m.novosti.example.ru/world/123"
    assert line["outlet"] == "example.ru"
    assert line["language"] == "ru"
    assert "Кремль" in line["title"]


def test_command_without_any_url_has_null_outlet() -> None:
    result = run_extract(str(PAGES / "meta-date-author.html"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outlet"] is None


def test_command_reports_a_missing_file_and_goes_on(tmp_path: Path) -> None:
    missing = tmp_path / "gone.html"
    good = PAGES / "navigation-boxes.html"
    result = run_extract(str(missing), str(good))
    assert result.returncode == 1
    assert str(missing) in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["file"] == str(missing) and lines[0]["error"]
    assert lines[1]["file"] == str(good) and lines[1]["text"]


def test_command_refuses_private_addresses() -> None:
    result = run_extract("http://127.0.0.1:9/story.html")
    assert result.returncode == 1
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert "private" in line["error"]
    assert "127.0.0.1" in result.stderr


def test_command_url_option_takes_a_single_file() -> None:
    page = str(PAGES / "navigation-boxes.html")
    result = run_extract(page, page, "--url", "https://example.com/a")
    assert result.returncode == 2
    assert "single file" in result.stderr


# --- the benchmark --------------------------------------------------------------------------


def test_scorer_on_a_hand_made_case() -> None:
    bench = load_bench()
    truth = "one two three four five"  # shingles: (1 2 3 4), (2 3 4 5)
    assert bench.page_counts(truth, truth) == (1.0, 0.0, 0.0)
    # Prediction adds a word: shingles (1 2 3 4), (2 3 4 5), (3 4 5 six) -> TP 2, FP 1, FN 0.
    tp, fp, fn = bench.page_counts(truth, truth + " six")
    assert (tp, fp, fn) == pytest.approx((2 / 3, 1 / 3, 0.0))
    # Nothing predicted: recall 0, and the page is left out of the precision average.
    empty = bench.page_counts(truth, "")
    assert empty == (0.0, 0.0, 1.0)
    figures = bench.score([(tp, fp, fn), empty])
    assert figures["precision"] == pytest.approx(2 / 3)
    assert figures["recall"] == pytest.approx(0.5)
    assert figures["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    # Repeated shingles count with multiplicity; a short text is one shorter shingle.
    assert bench.page_counts("a b c d a b c d", "a b c d") == pytest.approx((0.2, 0.0, 0.8))
    assert bench.shingles("only two") == {("only", "two"): 1}


def test_benchmark_on_a_few_pages() -> None:
    if not (BENCH_DATA / "ground-truth.json").exists():
        pytest.skip(f"article-extraction benchmark not found in {BENCH_DATA} (shared/ absent)")
    bench = load_bench()
    pages = bench.load_pages(BENCH_DATA, limit=12)
    figures = bench.run(pages, bench.ours)
    assert figures["pages"] == 12
    assert figures["f1"] > 0.9, figures
    assert figures["date_found"] > 0.8, figures
