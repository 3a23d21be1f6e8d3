"""Near-duplicate lookup time per article with N stored signatures (default 100,000).

Method: N synthetic articles (about 300 words each, drawn from a 20,000-word vocabulary
with Zipf-like frequencies, plus names and numbers) are signed with
`stories.copies.signature` and indexed by their `band_keys` (the 128 band keys of 2 rows
each that the archive stores in an indexed bigint[]; here a dict in memory), then the
containment check (`similarity`). Queries are Q new articles: half are
spun copies (a fifth of their words swapped, page furniture added) of stored ones, half
unrelated. Reported: signing time per article, lookup time per article (LSH candidates
plus verification), and how many copies were found.

    .venv/bin/python bench/copies_speed.py [--stored 100000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections import defaultdict

from stories.copies import COPY_THRESHOLD, band_keys, signature, similarity

WORDS = 20_000


def vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(WORDS)]


def article(rng: random.Random, vocab: list[str], cum_weights: list[float]) -> str:
    sentences = []
    for _ in range(15):
        words = rng.choices(vocab, cum_weights=cum_weights, k=20)
        words.insert(rng.randint(0, 19), rng.choice(vocab).capitalize())
        words.append(str(rng.randint(1, 2030)))
        sentences.append(" ".join(words).capitalize() + ".")
    return "\n".join(" ".join(sentences[i:i + 3]) for i in range(0, 15, 3))


def spin(rng: random.Random, text: str, vocab: list[str]) -> str:
    lines = []
    for line in text.splitlines():
        words = [rng.choice(vocab) if rng.random() < 0.2 else w for w in line.split()]
        lines.append(" ".join(words))
    return "Home\nWorld\nSubscribe to our newsletter\n" + "\n".join(lines) + "\nShare"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(WORDS)))
    index: dict[int, list[int]] = defaultdict(list)  # band key → stored articles
    stored: dict[int, bytes] = {}
    texts: list[str] = []
    started = time.perf_counter()
    sign_time = 0.0
    for i in range(args.stored):
        text = article(rng, vocab, weights)
        if i < args.queries:
            texts.append(text)
        t0 = time.perf_counter()
        sig = signature(text)
        sign_time += time.perf_counter() - t0
        stored[i] = sig
        for key in band_keys(sig):
            index[key].append(i)
    build = time.perf_counter() - started
    queries = []
    for q in range(args.queries):
        if q % 2 == 0:
            queries.append((q, spin(rng, texts[q], vocab)))
        else:
            queries.append((None, article(rng, vocab, weights)))
    sigs = [(expected, signature(text)) for expected, text in queries]
    found = false_found = 0
    t0 = time.perf_counter()
    for expected, sig in sigs:
        candidates = {i for key in band_keys(sig) for i in index.get(key, ())}
        hits = [i for i in candidates if similarity(sig, stored[i]) >= COPY_THRESHOLD]
        found += expected is not None and expected in hits
        false_found += sum(1 for key in hits if key != expected)
    lookup = (time.perf_counter() - t0) / len(sigs)
    print(f"stored {len(stored)} signatures in {build:.0f} s "
          f"(signing {1000 * sign_time / args.stored:.2f} ms per article)")
    print(f"lookup: {1000 * lookup:.2f} ms per article over {len(sigs)} queries "
          f"(LSH candidates + containment check)")
    print(f"spun copies found {found}/{len(sigs[::2])}, other matches {false_found}")


if __name__ == "__main__":
    main()
