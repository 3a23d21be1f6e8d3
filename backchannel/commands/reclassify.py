"""`backchannel reclassify`: re-run the classifier over the stored archive, after the
rules or the cue file changed. Text is not re-fetched. Articles whose decision (or, for
a government's own outlet, stance) changed have their stories brought up to date; no
alert is sent for what a reclassification changes."""

from __future__ import annotations

from archive.db import connect
from archive.officials import official_stance, set_official_stance
from archive.store import save_classification
from archive.stories import restory
from classify import CLASSIFIER_VERSION, classify

BATCH = 500


def register(subparsers) -> None:
    parser = subparsers.add_parser("reclassify", help="re-run the classifier over the archive")
    parser.add_argument("--all", action="store_true",
                        help="every article, not only those classified by another version")
    parser.set_defaults(handler=run)


def run(args, settings) -> int:
    reader = connect(settings)
    writer = connect(settings, migrate_now=False)
    seen = 0
    changed: list[int] = []
    try:
        query = ("SELECT a.id, a.title, a.text, a.language, o.official FROM articles a "
                 "LEFT JOIN outlets o ON o.id = a.outlet_id")
        params: tuple = ()
        if not args.all:
            query += " WHERE a.classifier_version IS DISTINCT FROM %s"
            params = (CLASSIFIER_VERSION,)
        with reader.transaction(), reader.cursor(name="reclassify") as cursor:
            cursor.itersize = BATCH
            for row in cursor.execute(query + " ORDER BY a.id", params):
                decision = classify(row["title"], row["text"], row["language"])
                seen += 1
                differs = save_classification(
                    writer, row["id"], decision.contact_story, decision.call_status,
                    decision.evidence, CLASSIFIER_VERSION)
                if row["official"]:  # the government's own word: its stance may change
                    differs |= set_official_stance(writer, row["id"], official_stance(
                        decision.contact_story, decision.call_status, decision.stance))
                if differs:
                    changed.append(row["id"])
        stories = {restory(writer, article_id) for article_id in changed} - {None}
    finally:
        reader.close()
        writer.close()
    print(f"reclassified {seen} articles with classifier {CLASSIFIER_VERSION}; "
          f"{len(changed)} changed their decision; {len(stories)} stories brought up to date")
    return 0
