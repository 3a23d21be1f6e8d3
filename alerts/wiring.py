"""What the crawl and the alert commands need to decide and deliver alerts (the
database URL, the channels, the outbox, the dispatcher), built in one place from the
settings, so that `crawl`, `run` (daemon and workers) and `alerts` agree on them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from alerts.channels import Channel, channels_from_settings
from alerts.dispatch import Dispatcher, Observer, RetryPolicy
from alerts.outbox import Outbox
from archive.db import database_url
from core.config import ConfigError, Settings


@dataclass
class Wiring:
    settings: Settings
    channels: dict[str, Channel]  # the channels delivered to, by name
    outbox: Outbox  # decides alerts for every configured channel
    retry: RetryPolicy
    observer: Observer | None = None  # told of each delivery (the daemon's metrics)
    dispatcher: Dispatcher | None = None  # once started

    @cached_property
    def database_url(self) -> str:
        """Resolved on first use: `alerts test` needs no database (nor the embedded
        server started)."""
        return database_url(self.settings)

    def only(self, channel: str) -> Wiring:
        """The same, delivering to this one channel only (the outbox still knows every
        configured channel); ConfigError when it is not configured."""
        if channel not in self.channels:
            raise ConfigError(f"channel {channel!r} is not configured "
                              f"(configured: {', '.join(self.channels) or 'none'})")
        return replace(self, channels={channel: self.channels[channel]}, dispatcher=None)

    def start(self) -> Wiring:
        """Deliver alerts from the outbox, in threads, until `drain` or `stop`."""
        self.dispatcher = Dispatcher(self.database_url, self.channels, self.retry,
                                     set(self.outbox.digest_minutes), self.observer).start()
        return self

    def drain(self, budget: float) -> None:
        """Deliver what falls due within `budget` seconds, then stop."""
        if self.dispatcher is not None:
            self.dispatcher.drain(budget)
            self.dispatcher = None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop delivering after the message in hand."""
        if self.dispatcher is not None:
            self.dispatcher.stop(timeout)
            self.dispatcher = None


def wiring_from_settings(settings: Settings, observer: Observer | None = None) -> Wiring:
    """The configured channels and the outbox over them; nothing is started yet."""
    channels = channels_from_settings(settings)
    outbox = Outbox.from_settings(settings, list(channels))
    return Wiring(settings, channels, outbox, RetryPolicy.from_settings(settings), observer)
