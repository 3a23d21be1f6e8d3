"""Syndicated copies and wire attribution (design notes: docs/stories.md)."""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

NUM_PERM = 256
SEED = 1
SCHEME = "affine32"  # datasketch >= 2.0; fixed so stored signatures stay comparable
LSH_BANDS, LSH_ROWS = 128, 2  # candidates from Jaccard ~0.1 up; verified afterwards
COPY_THRESHOLD = 0.5  # estimated containment at or above which a text is a copy
MIN_SHINGLES = 40  # smaller texts are too short to call copies of anything

_MAGIC = b"BCM1"
_HEADER = struct.Struct("<4sHI")  # magic, num_perm, shingle count

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_MIN_LINE_WORDS = 8  # shorter lines are navigation, bylines, captions' stubs

# Function words and the filler a spinner inserts; dropped before shingling.
STOP_WORDS = frozenset("""
a about above actually after again against all also although am among an and any are as at
be because been before being below between both but by can could did do does doing down
during each either even ever few for from further had has have having he her here hers
herself him himself his how however i if in into is it its itself just likewise may me
might more most much must my myself neither no nor not now of off on once only or other
our ours out over own quite rather really said same says she should so some such than
that the their theirs them themselves then there these they this those through thus to
too under until up upon very was we were what when where whether which while who whom
why will with within would yet you your yours
""".split())

_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def normalise(text: str) -> str:
    """Casefolded, accent-free text: spinners and CMSs disagree on quotes and accents."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


def body_lines(text: str) -> list[str]:
    """Lines long enough to be prose: menus, share buttons and bylines are short."""
    return [line for line in text.splitlines() if len(line.split()) >= _MIN_LINE_WORDS]


def stem(word: str) -> str:
    """A crude suffix stripper; enough to make "calls" and "called" one token."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """Stemmed words that carry meaning, in order; single letters (from "can&& t") go."""
    words = _WORD.findall(normalise(text))
    return [stem(w) for w in words if len(w) > 1 and w not in STOP_WORDS]


def anchor_tokens(text: str) -> list[str]:
    """Names and numbers in order: capitalised words not opening a sentence, and digits.
    A spinner swaps common words but leaves these alone."""
    anchors = []
    for match in re.finditer(r"[^\W_]+", text):
        token = match.group(0)
        before = text[max(0, match.start() - 2): match.start()]
        if token.isdigit():
            anchors.append(token)
        elif token[0].isupper() and len(token) > 2 and not re.search(r"[.!?&\"“]\s*$", before):
            if token.casefold() not in STOP_WORDS:
                anchors.append(normalise(token))
    return anchors


def shingles(text: str) -> set[str]:
    """The shingle set of an article's prose (see module doc)."""
    prose = "\n".join(body_lines(text)) or text
    words = content_words(prose)
    found = {f"w:{a} {b}" for a, b in zip(words, words[1:], strict=False)}
    found |= {f"s:{a} {c}" for a, c in zip(words, words[2:], strict=False)}
    anchors = anchor_tokens(prose)
    found |= {f"n:{a} {b} {c}" for a, b, c in zip(anchors, anchors[1:], anchors[2:],
                                                   strict=False)}
    return found


def minhash(items: Iterable[str]) -> MinHash:
    # Imported here: datasketch imports scipy, half a second of CPU at every start of a
    # crawl, and only an article that reports a contact needs a signature.
    from datasketch import MinHash

    mh = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    mh.update_batch([item.encode("utf-8") for item in items])
    return mh


def signature(text: str) -> bytes:
    """A MinHash of the text's shingles plus the shingle count, as bytes for a bytea
    column (4 + 2 + 4 header bytes, then 4 bytes per permutation)."""
    found = shingles(text)
    values = minhash(found).hashvalues.astype("<u4")
    return _HEADER.pack(_MAGIC, NUM_PERM, len(found)) + values.tobytes()


def unpack(sig: bytes) -> tuple[int, np.ndarray]:
    """(shingle count, hash values) of a signature made by `signature`."""
    magic, num_perm, count = _HEADER.unpack_from(sig)
    if magic != _MAGIC:
        raise ValueError("not a backchannel MinHash signature")
    values = np.frombuffer(sig, dtype="<u4", count=num_perm, offset=_HEADER.size)
    return count, values.astype(np.uint32)


def jaccard(sig_a: bytes, sig_b: bytes) -> float:
    _, a = unpack(sig_a)
    _, b = unpack(sig_b)
    return float(np.count_nonzero(a == b)) / len(a)


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated containment of the smaller shingle set in the larger, from the MinHash
    Jaccard and the two set sizes: |A∩B| = J(|A|+|B|)/(1+J). 0 for tiny texts."""
    count_a, _ = unpack(sig_a)
    count_b, _ = unpack(sig_b)
    if min(count_a, count_b) < MIN_SHINGLES:
        return 0.0
    j = jaccard(sig_a, sig_b)
    shared = j * (count_a + count_b) / (1 + j)
    return min(1.0, shared / min(count_a, count_b))


def text_similarity(text_a: str, text_b: str) -> float:
    """Exact containment of the two texts' shingle sets: the verification step once LSH
    or a time window has named the candidates (MinHash estimates are noisy when one
    text is short and the other long)."""
    return containment(shingles(text_a), shingles(text_b))


def containment(a: set[str], b: set[str]) -> float:
    """The share of the smaller shingle set found in the other (0 for short texts)."""
    if min(len(a), len(b)) < MIN_SHINGLES:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def is_copy(text_a: str, text_b: str) -> bool:
    return text_similarity(text_a, text_b) >= COPY_THRESHOLD


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per LSH band, for an indexed `bigint[]` overlap (&&) lookup
    in PostgreSQL: texts sharing any band are copy candidates."""
    _, values = unpack(sig)
    keys = []
    for band in range(LSH_BANDS):
        rows = values[band * LSH_ROWS: (band + 1) * LSH_ROWS]
        key = band
        for value in rows:
            key = (key * 0x100000001B3 + int(value)) & 0xFFFFFFFFFFFFFFFF
        keys.append(key - (1 << 64) if key >= 1 << 63 else key)
    return keys


# --- wire attribution -----------------------------------------------------------------

WIRES = {
    "Reuters": r"Reuters",
    "AP": r"AP|Associated\s+Press",
    "AFP": r"AFP|Agence\s+France[- ]Presse",
    "Bloomberg": r"Bloomberg",
    "dpa": r"dpa|DPA",
    "TASS": r"TASS|ТАСС",
    "Interfax": r"Interfax|Интерфакс",
    "RIA Novosti": r"RIA\s+Novosti|РИА\s+Новости",
    "Sputnik": r"Sputnik",
    "Anadolu": r"Anadolu(?:\s+Agency)?|AA",
    "PTI": r"PTI|Press\s+Trust\s+of\s+India",
    "UPI": r"UPI",
    "Xinhua": r"Xinhua",
}
_WIRE_ALT = "|".join(f"(?P<w{i}>{pattern})" for i, pattern in enumerate(WIRES.values()))
_WIRE_NAMES = list(WIRES)


def _wire_patterns() -> list[re.Pattern[str]]:
    """How pages state that an article is a wire story, strongest first. Mentions of an
    agency as a news source inside the story ("Reuters reported in November that ...")
    are not attribution; a dateline or credit line is."""
    w = f"(?:{_WIRE_ALT})"
    return [
        # dateline: "MOSCOW (Reuters) -", "(AP) –", "WASHINGTON, March 3 (AFP) —"
        re.compile(rf"^[^\n()]{{0,60}}\(\s*{w}\s*\)\s*[-–—:]", re.MULTILINE),
        # credit lines: "By Daily Sabah With Reuters", "with AFP", "Source: AP", "© AFP"
        re.compile(rf"(?i:\bwith\b)\s+{w}(?![a-z])"),
        re.compile(rf"(?i:\b(?:source|sources|credit)\s*:?\s+){w}\b"),
        re.compile(rf"(?i:\bcopyright\b|©)\s*(?:\d{{4}}\s+)?(?i:the\s+)?{w}\b"),
        re.compile(rf"(?i:\breporting\s+by\s+){w}\b"),
    ]


_PATTERNS = _wire_patterns()
_FIRST_APPEARED = re.compile(
    r"\bThe post\b.{1,300}?\b(?:first|initially|originally)\s+appeared\s+on\s+"
    r"(?P<site>[^\n.]{2,80}?)\s*\.?\s*(?:\n|$)",
    re.IGNORECASE | re.DOTALL,
)
_REPORTED = re.compile(rf"(?:{_WIRE_ALT})\s+(?:news\s+agency\s+)?reported\b")


def _wire_name(match: re.Match[str]) -> str | None:
    for i, name in enumerate(_WIRE_NAMES):
        if match.group(f"w{i}"):
            return name
    return None


def wire_attribution(text: str, title: str | None = None) -> str | None:
    """The agency (or original site) a page credits for its article, as the page states
    it: a dateline "(Reuters) -", "With Reuters", "Source: AFP", "The post … first
    appeared on X". Falls back to "X reported" only in the lead (first 600 chars),
    where it names the story's source rather than background."""
    whole = f"{title}\n{text}" if title else text
    for pattern in _PATTERNS:
        match = pattern.search(whole)
        if match:
            return _wire_name(match)
    posted = _FIRST_APPEARED.search(text)
    if posted:
        return posted.group("site").strip()
    lead = "\n".join(body_lines(text))[:600] or text[:600]
    match = _REPORTED.search(lead)
    return _wire_name(match) if match else None
