"""`backchannel classify` with hostile lines in the middle of its input: a 5,000-digit
number, JSON nested 5,000 deep, a line over the size bound. Each gets its own error
line; the lines after it still get their answers, in order."""

from __future__ import annotations

import json
import os

from conftest import run_cli

from backchannel.commands.classify import MAX_LINE_CHARS

CALL = ("Kremlin spokesman Dmitry Peskov would neither confirm nor deny that Vladimir Putin "
        "and Donald Trump had spoken by telephone, after two officials said the presidents "
        "talked for an hour on Sunday.")
MARKET = "The fish market on the quay reopened on Saturday after a month of repairs."


def line(ident: str, text: str) -> str:
    return json.dumps({"id": ident, "title": None, "text": text, "language": "en"})


def test_bad_lines_get_their_errors_and_the_rest_their_answers(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKCHANNEL_")}
    env["BACKCHANNEL_HOME"] = str(tmp_path)  # classify needs no database
    lines = [
        line("first", CALL),
        '{"id": "digits", "text": "x", "count": ' + "9" * 5000 + "}",
        line("second", MARKET),
        "[" * 5000 + "]" * 5000,
        '{"id": "huge", "text": "' + "a" * (MAX_LINE_CHARS + 10) + '"}',
        line("third", CALL),
    ]
    result = run_cli(["classify"], env, input="\n".join(lines) + "\n")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    records = [json.loads(out) for out in result.stdout.splitlines()]
    assert [r.get("id") for r in records] == ["first", None, "second", None, None, "third"]
    assert [r.get("line") for r in records if "error" in r] == [2, 4, 5]
    errors = [r["error"] for r in records if "error" in r]
    assert "5000 digits" in errors[0]
    assert "nested too deeply" in errors[1]
    assert f"longer than {MAX_LINE_CHARS:,} characters" in errors[2]
    answers = {r["id"]: r for r in records if "error" not in r}
    assert answers["first"]["contact_story"] and answers["first"]["call_status"] == "unconfirmed"
    assert answers["third"] == answers["first"] | {"id": "third"}
    assert not answers["second"]["contact_story"]
