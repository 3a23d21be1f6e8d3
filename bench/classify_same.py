"""Freeze the classifier's decisions and check that a change keeps them: classifies every
item of the shared corpus, the seed pages, the fixture cases and the article-length texts
of the speed bench, and writes id -> (contact_story, call_status, evidence, stance,
confidence, contact sentences) as JSON; `--compare` reports every difference instead.

    .venv/bin/python bench/classify_same.py --save /tmp/classify-baseline.json
    .venv/bin/python bench/classify_same.py --compare /tmp/classify-baseline.json"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classify_speed import load_articles  # noqa: E402

from classify import classify, load_cues  # noqa: E402
from classify.rules import article_sentences, find_mentions  # noqa: E402

CASES = ROOT / "tests" / "classify" / "classify_cases"


def load_items(shared: Path) -> dict[str, tuple[str | None, str, str | None]]:
    """id -> (title, text, language) of everything to classify; each titled item also
    without its title, so that the article picker runs on it too."""
    items: dict[str, tuple[str | None, str, str | None]] = {}
    for name in ("contacts-dev.jsonl", "contacts-dev-2.jsonl"):
        for line in (shared / "corpus" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                items[f"{name}:{item['id']}"] = (item.get("title"), item["text"],
                                                 item.get("language"))
    for seed in sorted((shared / "seeds").glob("*.txt")):
        items[f"seed:{seed.name}"] = (None, seed.read_text(encoding="utf-8"), None)
    for path in sorted(CASES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                items[f"case:{path.name}:{case['id']}"] = (case.get("title"), case["text"],
                                                           case.get("language"))
    for k, article in enumerate(load_articles(shared)):
        items[f"speed:{k}"] = article
    for key, (title, text, language) in list(items.items()):
        if title:
            items[f"{key}#no-title"] = (None, text, language)
    return items


def outcome(title: str | None, text: str, language: str | None) -> dict:
    """The public result, plus the rules' contact sentences (position, status, flags)."""
    result = classify(title, text, language).to_dict()
    cues = load_cues()
    clean = title.strip() if isinstance(title, str) and title.strip() else None
    mentions = find_mentions(article_sentences(clean, text, cues), clean, text, cues)
    result["mentions"] = [[m.position, m.status, sorted(m.facts.flags)] for m in mentions]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, help="write the outcomes to this JSON file")
    mode.add_argument("--compare", type=Path, help="report differences against this file")
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("BACKCHANNEL_SHARED", ROOT.parent / "shared")))
    args = parser.parse_args()
    try:
        items = load_items(args.shared)
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"cannot load the items to classify: {exc}", file=sys.stderr)
        return 2
    outcomes = {key: outcome(*item) for key, item in items.items()}
    if args.save:
        args.save.write_text(json.dumps(outcomes, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"saved {len(outcomes)} outcomes to {args.save}")
        return 0
    try:
        saved = json.loads(args.compare.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read {args.compare}: {exc}", file=sys.stderr)
        return 2
    differences = 0
    for key in sorted(set(saved) | set(outcomes)):
        if key not in outcomes or key not in saved:
            print(f"{key}: only in {'the saved file' if key in saved else 'this run'}")
            differences += 1
            continue
        for field in sorted(set(saved[key]) | set(outcomes[key])):
            before, after = saved[key].get(field), outcomes[key].get(field)
            if before != after:
                print(f"{key}: {field}: {before!r} -> {after!r}")
                differences += 1
    print(f"compared {len(outcomes)} outcomes with {args.compare}: {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
