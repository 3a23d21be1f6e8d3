"""Configuration: `backchannel.toml` (path in BACKCHANNEL_CONFIG), overridden by
BACKCHANNEL_* environment variables. One place, so every command sees the same values."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

ENV_PREFIX = "BACKCHANNEL_"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the key and file."""


@dataclass
class Settings:
    home: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("backchannel")))
    database_url: str | None = None
    sources: Path | None = None
    allow_private_addresses: bool = False
    user_agent: str = "backchannel/0.1 (+https://github.com/backchannel/backchannel; news monitor)"
    download_timeout: float = 30.0
    max_page_bytes: int = 10 * 1024 * 1024
    concurrent_requests: int = 16
    concurrent_requests_per_domain: int = 2
    download_delay: float = 0.5
    retry_times: int = 2
    obey_robots_txt: bool = True
    default_interval_minutes: float = 5.0
    gdelt_gap_seconds: float = 5.0  # GDELT accepts one request every 5 s per address
    adaptive_intervals: bool = True  # follow each feed's posting rate…
    min_interval_minutes: float = 1.0  # …down to this (or the configured interval)…
    max_interval_minutes: float = 30.0  # …and up to this (or the configured interval)
    pass_timeout_minutes: float = 30.0  # a pass is stopped after this; the rest waits
    page_timeout_seconds: float = 30.0  # extraction of one page; then it is retried later
    # The daemon (`backchannel run`)
    tick_seconds: float = 5.0  # how often it looks for due sources
    host_polls_per_tick: int = 4  # at most this many polls of one host start per tick
    health_host: str = "127.0.0.1"  # /healthz and /metrics
    health_port: int = 9108
    health_max_age_minutes: float = 15.0  # /healthz fails when no pass ended this recently
    log_level: str = "INFO"
    # The web server (`backchannel serve`)
    web_pool_size: int = 8  # database connections it holds at most
    web_pool_timeout_seconds: float = 3.0  # a request waits this long for one, then a 503
    # Alert channels (see alerts/). URLs and passwords are secrets: never in a repr or log.
    smtp_url: str | None = field(default=None, repr=False)
    email_from: str | None = None
    email_to: str | None = None  # comma-separated
    slack_webhook_url: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    alert_attempts: int = 8  # deliveries per channel before an alert is marked failed
    alert_backoff_seconds: float = 5.0  # first retry delay; doubles, with jitter, to 1 h
    alert_timeout: float = 10.0  # seconds per delivery attempt
    alert_wait_seconds: float = 30.0  # how long `crawl` waits at its end for deliveries
    digest_minutes: dict[str, float] = field(default_factory=dict)  # channel → window
    # Sections that other parts read (alerts, channels, web) are kept as they are.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def embedded_data_dir(self) -> Path:
        return self.home / "postgres"


def _coerce(name: str, value: Any, target: Any, origin: str) -> Any:
    """Turn a TOML or environment value into the type of the field's default."""
    if isinstance(target, dict):
        return _coerce_mapping(name, value, origin)
    if isinstance(value, list) and not isinstance(target, Path):
        value = ",".join(str(item) for item in value)  # e.g. email_to = ["a@x", "b@x"]
    if isinstance(target, bool):
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigError(f"{origin}: {name} must be true or false, not {value!r}")
    if isinstance(target, int) and not isinstance(target, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: {name} must be a whole number, not {value!r}") from None
    if isinstance(target, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: {name} must be a number, not {value!r}") from None
    if isinstance(target, Path) or name in ("home", "sources"):
        return Path(str(value)).expanduser()
    return None if value is None else str(value)


def _coerce_mapping(name: str, value: Any, origin: str) -> dict[str, float]:
    """A table of numbers: a TOML table, or `key=number,key=number` in the environment."""
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ConfigError(f"{origin}: {name} must look like email=10,slack=5, not {value!r}")
        value = {key.strip(): number.strip() for key, number in pairs}
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: {name} must be a table of numbers, not {value!r}")
    try:
        return {str(key): float(number) for key, number in value.items()}
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name} must map names to numbers, not {value!r}") from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the TOML file named by BACKCHANNEL_CONFIG (if any), then the environment."""
    env = os.environ if environ is None else environ
    settings = Settings()
    defaults = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "extra"}
    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        path = Path(config_path).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: configuration file not found (BACKCHANNEL_CONFIG)"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for key, value in data.items():
            if key in defaults:
                setattr(settings, key, _coerce(key, value, defaults[key], str(path)))
            else:
                settings.extra[key] = value
    for key, default in defaults.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None:
            setattr(settings, key, _coerce(key, raw, default, ENV_PREFIX + key.upper()))
    if settings.database_url == "":
        settings.database_url = None
    return settings
