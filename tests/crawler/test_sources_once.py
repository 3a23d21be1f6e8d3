"""A pass reads its sources file once: the planner parses it and hands the parsed file
to the spider and the pipeline (which used to read it again through a Scrapy setting).
Counted with an audit hook on `open` in the crawling process: nothing of ours is
replaced."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT
from newsroom import SEED_LAYOUT, Newsroom, feed_path, publish_seeds

COUNTING_CRAWL = """
import os, sys
target = os.path.realpath(sys.argv[1])
opened = []

def count(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        if os.path.realpath(os.fspath(args[0])) == target:
            opened.append(args[0])

sys.addaudithook(count)
from backchannel.cli import main
code = main(["crawl", "--all", "--sources", sys.argv[1]])
print(f"sources file opened {len(opened)} times")
sys.exit(code)
"""


@pytest.fixture
def newsroom():
    room = Newsroom()
    yield room
    room.close()


def test_a_crawl_pass_reads_the_sources_file_once(newsroom, seeds_dir, cli_env, db,
                                                  tmp_path):
    publish_seeds(newsroom, seeds_dir, SEED_LAYOUT[:2])
    sources = tmp_path / "sources.toml"
    sources.write_text(newsroom.sources_toml(
        {seed.outlet: [feed_path(seed)] for seed in SEED_LAYOUT[:2]}), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", COUNTING_CRAWL, str(sources)],
                            env=cli_env, capture_output=True, text=True, timeout=180,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = re.search(r"stored (\d+) new articles", result.stdout)
    assert stored and int(stored.group(1)) > 0, result.stdout  # the pipeline ran
    assert "sources file opened 1 times" in result.stdout, result.stdout
    outlets = {row["outlet"] for row in db.execute(
        "SELECT o.name AS outlet FROM articles a JOIN outlets o ON o.id = a.outlet_id")}
    assert outlets == {seed.outlet for seed in SEED_LAYOUT[:2]}
