"""`min_confidence`: an alert rule leaves out articles the classifier is unsure of, and
the confidence travels with the alert; bad values are refused by name."""

from __future__ import annotations

import pytest
from alerting import PHONE_CALL, report

from alerts.outbox import Outbox
from alerts.rules import DEFAULT_MIN_CONFIDENCE, Rule, rules_from_settings
from core.config import ConfigError, Settings


def test_unsure_articles_do_not_alert_and_sure_ones_say_how_sure(db):
    outbox = Outbox(rules=[Rule()], channels=["webhook"])
    _, _, unsure = report(db, outbox, "North Post", "a", "2025-04-01T09:00:00+00:00",
                          confidence=DEFAULT_MIN_CONFIDENCE - 0.2)
    _, _, sure = report(db, outbox, "South Herald", "b", "2025-04-01T11:00:00+00:00",
                        confidence=0.92)
    _, _, unknown = report(db, outbox, "East Courier", "c", "2025-04-01T12:00:00+00:00")
    assert unsure == [] and len(sure) == 1 and len(unknown) == 1  # None: as before
    payload = db.execute("SELECT payload FROM alerts WHERE id = %s", (sure[0],)
                         ).fetchone()["payload"]
    assert payload["confidence"] == pytest.approx(0.92, abs=1e-6)


def test_a_rule_of_its_own_takes_any_minimum(db):
    eager = Outbox(rules=[Rule(name="eager", min_confidence=0.0)], channels=["webhook"])
    _, _, alerts = report(db, eager, "North Post", "a", "2025-04-01T09:00:00+00:00",
                          text=PHONE_CALL, confidence=0.1)
    assert len(alerts) == 1


@pytest.mark.parametrize("value", [1.5, -0.1, "high", True])
def test_a_bad_minimum_is_refused_by_name(value):
    settings = Settings(extra={"alert_rules": [{"name": "r", "min_confidence": value}]})
    with pytest.raises(ConfigError, match="min_confidence must be a number from 0 to 1"):
        rules_from_settings(settings)
