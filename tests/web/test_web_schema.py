"""Property-based tests of the JSON API against its own OpenAPI document (schemathesis):
generated requests, valid and invalid, never get a 5xx, and every answer matches the
documented status codes and shapes. The server requires a token, so the document's
security scheme is checked too (a request without it must be refused).

Each operation gets its own Hypothesis run through `APIOperation.as_strategy()`: the
`@schema.parametrize()` of a lazily loaded schema (`schemathesis.pytest.from_fixture`)
fails under pytest 9.2 (`Function` has no `_nodeid`), and the schema can only be loaded
once the server of a fixture runs.

For invalid data, the check that it is refused is left out: a query string cannot tell a
one-element array from a string (`q=["x"]` is sent as `q=x`), so some "invalid" cases
reach the server as valid requests. Invalid data must still never cause a 5xx or an
undocumented answer; tests/web/test_web_api.py checks the refusals themselves."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from webserver import article_count, running

from archive.search import SearchError, parse_when
from web.app import create_app

TOKEN = "schema-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("WEB_SCHEMA_EXAMPLES", 12))  # per operation and mode
OPERATIONS = ["/healthz", "/api/stories", "/api/stories/{story_id}", "/api/search",
              "/api/articles/{article_id}", "/api/articles", "/api/reports-per-day"]


@pytest.fixture(scope="module")
def served(crawled_archive):
    with running(create_app(crawled_archive.database_url, token=TOKEN)) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(f"{served}/openapi.json", headers=AUTH, timeout=20)


def crossed(query: dict) -> bool:
    """`since` not before `until`: the API refuses it (422), as its description says."""
    try:
        since = parse_when(query["since"], "since")
        until = parse_when(query["until"], "until", end_of_day=True)
    except (KeyError, TypeError, SearchError, OverflowError):
        return False
    return since >= until


def test_every_operation_is_tested(api_schema):
    assert sorted(api_schema.raw_schema["paths"]) == sorted(OPERATIONS)


@pytest.mark.parametrize(("path", "mode"), [
    (path, mode) for path in OPERATIONS for mode in GenerationMode
    if path != "/healthz" or mode is GenerationMode.POSITIVE])  # no parameter to get wrong
def test_api_matches_its_document(api_schema, path, mode):
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        if crossed(case.query or {}):  # the one rule the document can only describe
            response = case.call(headers=AUTH, timeout=20)
            assert response.status_code == 422  # negative data may be refused for more
            if mode is GenerationMode.POSITIVE:
                assert response.json()["detail"] == "since: must be before until"
            return
        case.call_and_validate(headers=AUTH, timeout=20, excluded_checks=(
            [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []))

    check()


def test_archive_is_untouched(crawled_archive, served):
    """Runs after the generated requests: none of them changed anything."""
    assert article_count(crawled_archive.database_url) > 0
