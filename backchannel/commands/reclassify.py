"""`backchannel reclassify`: re-run the classifier over the stored archive, after the
rules or the cue file changed. Text is not re-fetched."""

from __future__ import annotations

from archive.db import connect
from archive.store import save_classification
from crawler.classify import CLASSIFIER_VERSION, classify

BATCH = 500


def register(subparsers) -> None:
    parser = subparsers.add_parser("reclassify", help="re-run the classifier over the archive")
    parser.add_argument("--all", action="store_true",
                        help="every article, not only those classified by another version")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    reader = connect(settings)
    writer = connect(settings, migrate_now=False)
    seen = changed = 0
    try:
        query = "SELECT id, title, text, language FROM articles"
        params: tuple = ()
        if not args.all:
            query += " WHERE classifier_version IS DISTINCT FROM %s"
            params = (CLASSIFIER_VERSION,)
        with reader.transaction(), reader.cursor(name="reclassify") as cursor:
            cursor.itersize = BATCH
            for row in cursor.execute(query + " ORDER BY id", params):
                decision = classify(row["title"], row["text"], row["language"])
                seen += 1
                changed += save_classification(
                    writer, row["id"], decision.contact_story, decision.call_status,
                    decision.evidence, CLASSIFIER_VERSION)
    finally:
        reader.close()
        writer.close()
    print(f"reclassified {seen} articles with classifier {CLASSIFIER_VERSION}; "
          f"{changed} changed their decision")
    return 0
