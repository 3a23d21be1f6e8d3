"""Configuration: `backchannel.toml` (path in BACKCHANNEL_CONFIG), overridden by
BACKCHANNEL_* environment variables. One place, so every command sees the same values,
and one table (the fields of Settings, each with its Rule) that every value is checked
against before any work starts: a mistake is one line naming the key and where it was
set, never a traceback and never a value taken silently."""

from __future__ import annotations

import difflib
import math
import os
import types
import typing
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from core.tomlfile import TomlFileError, line_of, noun_of, read_toml, unknown_key, where

ENV_PREFIX = "BACKCHANNEL_"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_INTERVAL_MINUTES = 0.01  # under a second: for local test servers only
MAX_INTERVAL_MINUTES = 7 * 24 * 60
# Variables of the project's own tests and benchmarks: known, so never "unknown".
DEVELOPER_VARIABLES = ("TEST_DATABASE_URL", "SHARED", "LOAD_TEST", "FUZZ_SCALE",
                       "DISTRIBUTED_TEST")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the key and file."""


@dataclass(frozen=True)
class Rule:
    """How a setting's value is checked. Its kind (bool, int, float, str, path, table)
    comes from the field's type; these narrow it. Numbers are always finite."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    choices: tuple[str, ...] | None = None  # str: one of these (any case; kept upper)
    nonempty: bool = False  # str: not blank
    path_is: str | None = None  # path: "dir" or "file" when it exists
    kind: str | None = None  # keys in `extra` only (they have no field to give it)


def setting(default: Any = None, *, factory: Any = None, secret: bool = False,
            **rule: Any) -> Any:
    """A field of Settings with its Rule, in one line:
    `health_port: int = setting(9108, at_least=1, at_most=65535)`. A plain field
    (`x: float = 5.0`) is checked by its type alone (a number: finite and ≥ 0)."""
    meta = {"rule": Rule(**rule)}
    if factory is not None:
        return field(default_factory=factory, repr=not secret, metadata=meta)
    return field(default=default, repr=not secret, metadata=meta)


def _internal(factory: Any) -> Any:
    return field(default_factory=factory, repr=False, compare=False,
                 metadata={"internal": True})


@dataclass
class Settings:
    home: Path = setting(factory=lambda: Path(platformdirs.user_data_dir("backchannel")),
                         path_is="dir")
    database_url: str | None = setting(None, secret=True)
    sources: Path | None = setting(None, path_is="file")
    allow_private_addresses: bool = False
    user_agent: str = setting(
        "backchannel/0.1 (+https://github.com/backchannel/backchannel; news monitor)",
        nonempty=True)
    download_timeout: float = setting(30.0, above=0)
    max_page_bytes: int = setting(10 * 1024 * 1024, at_least=1)
    concurrent_requests: int = setting(16, at_least=1)
    concurrent_requests_per_domain: int = setting(2, at_least=1)
    download_delay: float = 0.5
    retry_times: int = 2
    obey_robots_txt: bool = True
    default_interval_minutes: float = setting(5.0, at_least=MIN_INTERVAL_MINUTES,
                                              at_most=MAX_INTERVAL_MINUTES)
    gdelt_gap_seconds: float = 5.0  # GDELT accepts one request every 5 s per address
    adaptive_intervals: bool = True  # follow each feed's posting rate…
    # …down to this (or the configured interval)… and up to this
    min_interval_minutes: float = setting(1.0, at_least=MIN_INTERVAL_MINUTES)
    max_interval_minutes: float = setting(30.0, at_least=MIN_INTERVAL_MINUTES)
    # a pass is stopped after this; what is left waits for the next
    pass_timeout_minutes: float = setting(30.0, at_least=0)
    # extraction of one page; past it the page is retried by a later pass
    page_timeout_seconds: float = setting(30.0, above=0)
    # children that extract and classify pages side by side; 0: one per core
    extract_processes: int = setting(0, at_least=0, at_most=64)
    # The daemon (`backchannel run`)
    tick_seconds: float = setting(5.0, above=0)  # how often it looks for due sources
    host_polls_per_tick: int = setting(4, at_least=1)  # polls of one host started per tick
    health_host: str = setting("127.0.0.1", nonempty=True)  # /healthz and /metrics
    health_port: int = setting(9108, at_least=1, at_most=65535)
    # /healthz fails when no pass ended this recently
    health_max_age_minutes: float = setting(15.0, above=0)
    # an idle daemon logs one summary line this often
    heartbeat_minutes: float = setting(15.0, at_least=0)
    websub_callback_url: str | None = None  # public base URL of the above: WebSub on
    log_level: str = setting("INFO", choices=LOG_LEVELS)
    # The web server (`backchannel serve`)
    web_pool_size: int = setting(8, at_least=1)  # database connections it holds at most
    # a request waits this long for one, then a 503
    web_pool_timeout_seconds: float = setting(3.0, above=0)
    # answers kept for reuse while the archive does not change (0: no cache)
    web_cache_entries: int = setting(1000, at_least=0)
    # Alert channels (see alerts/). URLs and passwords are secrets: never in a repr or log.
    smtp_url: str | None = setting(None, secret=True)
    email_from: str | None = None
    email_to: str | None = None  # comma-separated
    slack_webhook_url: str | None = setting(None, secret=True)
    webhook_url: str | None = setting(None, secret=True)
    # deliveries per channel before an alert is marked failed
    alert_attempts: int = setting(8, at_least=1)
    alert_backoff_seconds: float = 5.0  # first retry delay; doubles, with jitter, to 1 h
    alert_timeout: float = setting(10.0, above=0)  # seconds per delivery attempt
    alert_wait_seconds: float = 30.0  # how long `crawl` waits at its end for deliveries
    digest_minutes: dict[str, float] = setting(factory=dict)  # channel → window
    # Keys that other parts read themselves (PASSED_ON), kept as they are.
    extra: dict[str, Any] = _internal(dict)
    origins: dict[str, str] = _internal(dict)  # key → where its value was set
    warnings: list[str] = _internal(list)  # unknown BACKCHANNEL_* variables

    @property
    def embedded_data_dir(self) -> Path:
        return self.home / "postgres"

    def origin(self, key: str) -> str:
        """Where a value came from, for messages: "BACKCHANNEL_HEALTH_PORT",
        "`health_port` in /etc/backchannel.toml:4", or "the default"."""
        return self.origins.get(key, "the default")


# Keys read from `extra` (and their BACKCHANNEL_* variable) by the parts that use them:
# `serve` (web_token), alerts/rules.py (alert_rules, checked table by table there) and
# `run --role worker|scheduler` (scheduler/distributed.py). Known here, and checked.
PASSED_ON: dict[str, Rule] = {
    "web_token": Rule(kind="str"),
    "alert_rules": Rule(kind="tables"),
    "worker_concurrency": Rule(kind="int", at_least=1),
    "heartbeat_seconds": Rule(kind="float", above=0),
    "stalled_seconds": Rule(kind="float", above=0),
    "keep_jobs": Rule(kind="float", at_least=0),
}
# Pairs of keys whose values must be in this order.
ORDERED = [("min_interval_minutes", "max_interval_minutes")]


def _kind_of(hint: Any) -> str:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = args[0]
    base = typing.get_origin(hint) or hint
    return {bool: "bool", int: "int", float: "float", str: "str", Path: "path",
            dict: "table"}[base]


def rules() -> dict[str, Rule]:
    """Every known key and its Rule: the fields of Settings, then PASSED_ON."""
    hints = typing.get_type_hints(Settings)
    table: dict[str, Rule] = {}
    for f in fields(Settings):
        if f.metadata.get("internal"):
            continue
        rule = f.metadata.get("rule", Rule())
        table[f.name] = replace(rule, kind=_kind_of(hints[f.name]))
    return {**table, **PASSED_ON}


def _number_text(rule: Rule, kind: str) -> str:
    noun = "a whole number" if kind == "int" else "a number"
    low = rule.at_least if rule.at_least is not None else (
        None if rule.above is not None else 0)
    if low is not None and rule.at_most is not None:
        return f"{noun} from {low:g} to {rule.at_most:g}"
    parts = [f"of at least {low:g}" if low is not None else "",
             f"above {rule.above:g}" if rule.above is not None else "",
             f"at most {rule.at_most:g}" if rule.at_most is not None else ""]
    return " ".join([noun, *(p for p in parts if p)])


def check_value(key: str, value: Any, rule: Rule, from_env: bool) -> Any:
    """The value as the program uses it, or ConfigError("must be …, not …") (the caller
    adds where). Environment values are text; TOML values must have their own type."""
    kind = rule.kind or "str"
    shown = repr(value) if from_env or isinstance(value, str) else _toml(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if from_env and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        raise ConfigError(f"must be true or false, not {shown}")
    if kind in ("int", "float"):
        return _number(value, rule, kind, from_env, shown)
    if kind == "path":
        if not isinstance(value, str) or not value.strip() or _controls(value):
            raise ConfigError(f"must be a path, not {shown}")
        path = Path(value).expanduser()
        if rule.path_is == "dir" and path.exists() and not path.is_dir():
            raise ConfigError(f"{path} is not a directory")
        if rule.path_is == "file" and path.is_dir():
            raise ConfigError(f"{path} is a directory, not a file")
        return path
    if kind == "table":
        return _number_table(value, from_env, shown)
    if kind == "tables":
        if from_env or not isinstance(value, list):
            raise ConfigError(f"must be an array of tables ([[{key}]])")
        return value
    if isinstance(value, list) and not from_env and all(isinstance(v, str) for v in value):
        value = ",".join(value)  # e.g. email_to = ["a@x", "b@x"]
    if not isinstance(value, str):
        raise ConfigError(f"must be a string, not {shown}")
    if _controls(value):
        raise ConfigError("must not hold control characters (a newline, an escape)")
    if rule.nonempty and not value.strip():
        raise ConfigError("must not be empty")
    if rule.choices:
        if value.strip().upper() not in rule.choices:
            raise ConfigError(f"must be one of {', '.join(rule.choices)}, not {shown}")
        return value.strip().upper()
    return value


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def _controls(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _number(value: Any, rule: Rule, kind: str, from_env: bool, shown: str) -> float | int:
    wanted = _number_text(rule, kind)
    number: float | int | None = None
    if from_env:
        try:
            number = int(value.strip()) if kind == "int" else float(value.strip())
        except ValueError:
            number = None
    elif not isinstance(value, bool) and isinstance(value, int if kind == "int" else
                                                    (int, float)):
        number = value if kind == "int" else float(value)
    if number is None or not math.isfinite(number):
        raise ConfigError(f"must be {wanted}, not {shown}")
    low = rule.at_least if rule.at_least is not None else (
        None if rule.above is not None else 0)
    if ((low is not None and number < low) or (rule.above is not None and number <= rule.above)
            or (rule.at_most is not None and number > rule.at_most)):
        raise ConfigError(f"must be {wanted}, not {shown}")
    return number


def _number_table(value: Any, from_env: bool, shown: str) -> dict[str, float]:
    """A table of numbers ≥ 0: a TOML table, or `key=number,key=number` in the
    environment."""
    if from_env:
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ConfigError(f"must look like email=10,slack=5, not {shown}")
        value = {key.strip(): number.strip() for key, number in pairs}
    if not isinstance(value, dict):
        raise ConfigError(f"must be a table of numbers, like {{email = 15}}, not {shown}")
    rule = Rule(kind="float")
    try:
        return {str(key): float(_number(number, rule, "float", from_env, repr(number)))
                for key, number in value.items()}
    except ConfigError:
        raise ConfigError(f"must map names to numbers of at least 0, not {shown}") from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the TOML file named by BACKCHANNEL_CONFIG (if any), then the environment,
    checking every key and value; ConfigError (one line) at the first mistake."""
    env = os.environ if environ is None else environ
    settings = Settings()
    table = rules()
    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        path = Path(config_path).expanduser()
        try:
            data, text = read_toml(path)
        except TomlFileError as exc:
            raise ConfigError(f"{exc} (configuration file, BACKCHANNEL_CONFIG)") from None
        for key, value in data.items():
            at = where(str(path), line_of(text, key))
            if key not in table:
                raise ConfigError(f"{at}: {unknown_key(key, table, noun_of(value))}")
            try:
                checked = check_value(key, value, table[key], from_env=False)
            except ConfigError as exc:
                raise ConfigError(f"{at}: `{key}` {exc}") from None
            _keep(settings, key, checked, value, f"`{key}` in {at}")
    known = {ENV_PREFIX + key.upper() for key in table} | {
        ENV_PREFIX + name for name in ("CONFIG", *DEVELOPER_VARIABLES)}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if name not in known:
            close = difflib.get_close_matches(
                key, [n[len(ENV_PREFIX):].lower() for n in known], n=1, cutoff=0.6)
            hint = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
            settings.warnings.append(f"{name}: unknown variable, ignored{hint}")
            continue
        if key not in table:
            continue
        try:
            checked = check_value(key, env[name], table[key], from_env=True)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None
        _keep(settings, key, checked, env[name], name)
    for low, high in ORDERED:
        if getattr(settings, low) > getattr(settings, high):
            raise ConfigError(f"{low} ({settings.origin(low)}) is more than {high} "
                              f"({settings.origin(high)})")
    if settings.database_url == "":
        settings.database_url = None
    return settings


def _keep(settings: Settings, key: str, checked: Any, raw: Any, origin: str) -> None:
    """A field takes the checked value; a passed-on key keeps the file's value as written
    in `extra` (its reader also reads its environment variable itself)."""
    settings.origins[key] = origin
    if key in PASSED_ON:
        if not origin.startswith(ENV_PREFIX):
            settings.extra[key] = raw
        return
    setattr(settings, key, checked)
