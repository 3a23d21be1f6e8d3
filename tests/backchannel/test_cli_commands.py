"""The command line imports only the module of the command it runs (a crawl's process
then loads neither the classifier nor the web app), so the map from command to module
must name every command and the module that registers it."""

from __future__ import annotations

import argparse
import subprocess
import sys

from conftest import ROOT

from backchannel.cli import COMMANDS, build_parser


def commands(parser: argparse.ArgumentParser) -> set[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def test_every_command_is_mapped_to_the_module_that_registers_it():
    assert commands(build_parser()) == set(COMMANDS)
    for name in COMMANDS:
        assert name in commands(build_parser([name])), name
        assert name in commands(build_parser(["-v", name, "--help"])), name


def test_a_crawl_loads_neither_the_classifier_nor_datasketch():
    code = ("import sys\n"
            "from backchannel.cli import build_parser\n"
            "build_parser(['crawl', '--all'])\n"
            "import crawler.runners, crawler.pipelines, crawler.spiders.news, alerts.wiring\n"
            "print(sorted(m for m in ('classify', 'datasketch', 'scipy', 'pipeline.process')"
            " if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", result.stderr[-2000:]
