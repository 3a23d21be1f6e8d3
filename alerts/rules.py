"""Alert rules: which story joins deserve a message. Rules are data (`[[alert_rules]]` in
backchannel.toml); without any, one rule alerts on every new outlet reporting an
unconfirmed call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import ConfigError, Settings

STORY_STATUSES = ("unconfirmed", "confirmed", "denied")
RULE_KEYS = {"name", "statuses", "outlets", "languages", "channels", "status_changes",
             "min_confidence"}
# The default minimum confidence of an alerted article: on held-out episodes it keeps
# about 90 % of the unconfirmed reports that no threshold would lose, at better precision
# (bench/classify_eval.py prints the table to choose another).
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Rule:
    name: str = "unconfirmed"
    statuses: tuple[str, ...] = ("unconfirmed",)  # the story's call status
    outlets: tuple[str, ...] = ()  # empty: every outlet
    languages: tuple[str, ...] = ()  # empty: every language
    channels: tuple[str, ...] = ()  # empty: every configured channel
    status_changes: bool = True  # alert when a watched story is confirmed or denied
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # the classifier's, of the article


@dataclass(frozen=True)
class Join:
    """What the rule looks at: an article that has just joined a story."""

    outlet: str
    language: str | None
    story_status: str
    is_new_outlet: bool
    joined_now: bool
    confidence: float | None = None  # None: classified before confidences were kept


def fires(rule: Rule, join: Join) -> bool:
    """A new outlet in a story whose status the rule watches; never a re-seen or updated
    article, nor a further article of an outlet the story already has."""
    if not (join.joined_now and join.is_new_outlet):
        return False
    if join.story_status not in rule.statuses:
        return False
    if rule.outlets and join.outlet.casefold() not in {o.casefold() for o in rule.outlets}:
        return False
    if join.confidence is not None and join.confidence < rule.min_confidence:
        return False
    return not rule.languages or (join.language or "") in rule.languages


def fires_on_change(rule: Rule, previous: str | None, status: str | None) -> bool:
    """A story the rule watched (by its status before) that a government's word has now
    confirmed or denied."""
    return (rule.status_changes and previous is not None and status != previous
            and status in ("confirmed", "denied") and previous in rule.statuses)


def rules_from_settings(settings: Settings) -> list[Rule]:
    tables = settings.extra.get("alert_rules")
    if tables is None:
        return [Rule()]
    if not isinstance(tables, list):
        raise ConfigError("alert_rules must be an array of tables ([[alert_rules]])")
    rules = [_rule(table, n) for n, table in enumerate(tables, 1)]
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ConfigError(f"alert_rules: names must be unique, got {names}")
    return rules


def _rule(table: Any, n: int) -> Rule:
    where = f"alert_rules #{n}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(table) - RULE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(RULE_KEYS)})")
    lists = {key: _strings(table.get(key, []), f"{where}: {key}")
             for key in ("statuses", "outlets", "languages", "channels")}
    statuses = lists["statuses"] or ("unconfirmed",)
    bad = [s for s in statuses if s not in STORY_STATUSES]
    if bad:
        raise ConfigError(f"{where}: statuses must be among {list(STORY_STATUSES)}, not {bad}")
    name = table.get("name", f"rule-{n}")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty string")
    changes = table.get("status_changes", True)
    if not isinstance(changes, bool):
        raise ConfigError(f"{where}: status_changes must be true or false")
    minimum = table.get("min_confidence", DEFAULT_MIN_CONFIDENCE)
    if isinstance(minimum, bool) or not isinstance(minimum, int | float) \
            or not 0 <= minimum <= 1:
        raise ConfigError(f"{where}: min_confidence must be a number from 0 to 1, "
                          f"not {minimum!r}")
    return Rule(name=name.strip(), statuses=statuses, outlets=lists["outlets"],
                languages=tuple(s.lower() for s in lists["languages"]),
                channels=lists["channels"], status_changes=changes,
                min_confidence=float(minimum))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, not {value!r}")
    return tuple(v.strip() for v in value if v.strip())
