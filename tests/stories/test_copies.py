"""Copies and wire attribution: the spun seed is found a copy, different outlets' own
reports are not, and pages' credit lines name their agency."""

from __future__ import annotations

import itertools
import json

import pytest

from stories.copies import (
    COPY_THRESHOLD,
    band_keys,
    is_copy,
    signature,
    similarity,
    text_similarity,
    wire_attribution,
)


def seed(seeds_dir, key: str) -> str:
    return next(seeds_dir.glob(f"{key}_*.txt")).read_text(encoding="utf-8")


def test_spun_seed_is_a_copy_of_the_wire_text(seeds_dir):
    original, spun = seed(seeds_dir, "000"), seed(seeds_dir, "001")
    assert is_copy(original, spun) and is_copy(spun, original)
    assert similarity(signature(original), signature(spun)) >= COPY_THRESHOLD


def test_different_outlets_reports_are_not_copies(seeds_dir):
    texts = {k: seed(seeds_dir, k) for k in ["000", "002", "003", "004"]}
    for a, b in itertools.combinations(texts, 2):
        assert not is_copy(texts[a], texts[b]), (a, b)


def test_no_false_copies_in_dev_corpus_beyond_wire_republications(seeds_dir):
    """Pairs of the dev corpus from different outlets: the only copies found must be the
    ones that are one text republished (nearly every sentence shared)."""
    path = seeds_dir.parent / "corpus" / "contacts-dev.jsonl"
    if not path.is_file():
        pytest.skip(f"dev corpus not found at {path}")
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for a, b in itertools.combinations(items, 2):
        if a["outlet"] == b["outlet"]:
            continue
        score = text_similarity(a["text"], b["text"])
        assert score < COPY_THRESHOLD, (a["id"], b["id"], score)


PARAGRAPHS = [
    "The central bank of the small island nation raised its benchmark interest rate by half "
    "a point on Thursday, citing stubborn inflation in food and imported fuel prices.",
    "Governor Amelia Ortega told reporters in Port Verde that further increases were "
    "possible if the currency weakened again before the tourist season in December.",
    "Analysts at Meridian Capital had expected a smaller move of 25 basis points, and the "
    "local stock index fell 1.8 percent in the hour after the announcement.",
    "The bank said loans to households grew 12 percent in the year to September, driven "
    "by mortgages in the capital and credit card lending to younger borrowers.",
    "Finance minister Tomas Keel said the government would publish a revised budget on "
    "November 14 with lower spending on road projects and a new tax on luxury imports.",
]


def spin(text: str) -> str:
    """A toy article spinner: synonyms, "has actually", quotes mangled into &&."""
    swaps = {"raised": "elevated", "told": "informed", "possible": "feasible",
             "expected": "anticipated", "smaller": "more modest", "fell": "dropped",
             "said": "stated", "grew": "expanded", "would": "will", "lower": "reduced",
             "citing": "pointing out", "further": "additional", "announcement": "statement"}
    words = [swaps.get(w, w) for w in text.split()]
    return " ".join(words).replace(" has ", " has actually ").replace("'", "&& ")


def test_toy_spinner_and_furniture():
    original = "\n".join(PARAGRAPHS)
    furniture = "\n".join(["Home", "World", "Markets", "Subscribe to our newsletter",
                           "Share on Facebook Twitter LinkedIn"] * 5)
    copy = furniture + "\n" + spin(original) + "\nRelated: Weather warning for the weekend"
    assert is_copy(original, copy)
    other = ("Heavy rain flooded the coastal road near Port Verde on Thursday, and the "
             "tourist board said hotels expected fewer guests in December than last year.")
    assert not is_copy(original, "\n".join([other] * 3 + PARAGRAPHS[:1]))


def test_short_texts_are_never_copies():
    assert text_similarity("Putin and Trump spoke.", "Putin and Trump spoke.") == 0.0


def test_signature_round_trip_and_band_candidates(seeds_dir):
    texts = {k: seed(seeds_dir, k) for k in ["000", "001", "002", "003", "004"]}
    sigs = {k: signature(t) for k, t in texts.items()}
    assert isinstance(sigs["000"], bytes) and signature(texts["000"]) == sigs["000"]
    assert similarity(sigs["000"], sigs["000"]) == 1.0
    bands = {key: set(band_keys(sigs[key])) for key in ["000", "002", "003", "004"]}
    candidates = [k for k, keys in bands.items() if keys & set(band_keys(sigs["001"]))]
    assert [k for k in candidates if similarity(sigs["001"], sigs[k]) >= COPY_THRESHOLD] \
        == ["000"]


@pytest.mark.parametrize("text, title, expected", [
    ("MOSCOW (Reuters) - The Kremlin said on Sunday ...", None, "Reuters"),
    ("WASHINGTON (AP) — The White House says ...", None, "AP"),
    ("PARIS, March 3 (AFP) - Officials said ...", None, "AFP"),
    ("By Daily Sabah With ReutersFebruary 10, 2025\nThe Kremlin said ...", None, "Reuters"),
    ("Story text here.\nSource: Associated Press", None, "AP"),
    ("Long text about a call.\n(Reporting by Reuters; Editing by Someone)", None, "Reuters"),
    ("Body of the article.\nThe post Putin and Trump spoke first appeared on Example News.\n"
     "Menu", None, "Example News"),
    ("Interfax news agency reported that the talks would resume on Monday in Riyadh "
     "with both delegations present.", None, "Interfax"),
    # background mentions and photo credits are not attribution
    ("The Kremlin said nothing.\n" + "More text. " * 80 + "\nReuters reported in "
     "November that Putin is open to a deal.", None, None),
    ("Putin speaks on the phone. (Alexander Kazakov, Sputnik, Kremlin Pool Photo via AP, "
     "File)\nThe Kremlin said on Monday it could neither confirm nor deny a call.", None,
     None),
    ("APPLE shares rose as traders bought technology stocks.", None, None),
])
def test_wire_attribution(text, title, expected):
    assert wire_attribution(text, title) == expected
