"""Prometheus metrics for the daemon (prometheus-client), in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from crawler.items import PassReport, PollOutcome


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # process_resident_memory_bytes and friends
        self.polls = Counter("backchannel_polls", "Feed polls, by outcome", ["outcome"],
                             registry=r)
        self.poll_errors = Counter("backchannel_poll_errors", "Failed polls, by kind",
                                   ["kind"], registry=r)
        self.pages = Counter("backchannel_pages_fetched", "Article pages fetched", registry=r)
        self.page_errors = Counter("backchannel_page_errors",
                                   "Pages that failed or were not stored", registry=r)
        self.articles = Counter("backchannel_articles_stored", "Articles stored", ["change"],
                                registry=r)
        self.alerts_created = Counter("backchannel_alerts_created", "Alerts decided",
                                      registry=r)
        self.alerts_delivered = Counter("backchannel_alerts_delivered",
                                        "Alert messages accepted by a channel", ["channel"],
                                        registry=r)
        self.alert_failures = Counter("backchannel_alert_delivery_failures",
                                      "Failed delivery attempts", ["channel"], registry=r)
        self.pass_seconds = Histogram("backchannel_pass_duration_seconds",
                                      "Duration of crawl passes", registry=r,
                                      buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
        self.looks = Counter("backchannel_looks", "Looks for due sources (daemon ticks)",
                             registry=r)
        self.last_pass = Gauge("backchannel_last_pass_end_timestamp_seconds",
                               "When the last pass ended", registry=r)
        self.source_success = Gauge("backchannel_source_last_success_timestamp_seconds",
                                    "When each source was last polled successfully",
                                    ["outlet", "source"], registry=r)

    def record_pass(self, report: PassReport, seconds: float, ended_at: float) -> None:
        for poll in report.polls.values():
            if not poll.ok:
                self.polls.labels("error").inc()
                self.poll_errors.labels(error_kind(poll)).inc()
                continue
            self.polls.labels("not_modified" if poll.status == 304 else "ok").inc()
            self.source_success.labels(poll.source.outlet, poll.source.url).set(ended_at)
        self.pages.inc(report.pages_fetched)
        self.page_errors.inc(len(report.page_errors))
        self.articles.labels("new").inc(report.articles_new)
        self.articles.labels("updated").inc(report.articles_changed)
        self.alerts_created.inc(len(report.alerts))
        self.pass_seconds.observe(seconds)
        self.last_pass.set(ended_at)

    def record_delivery(self, channel: str, delivered: int, failed: int) -> None:
        if delivered:
            self.alerts_delivered.labels(channel).inc(delivered)
        if failed:
            self.alert_failures.labels(channel).inc(failed)


def error_kind(poll: PollOutcome) -> str:
    """A small fixed set of labels (no URLs: label values must stay few)."""
    error = (poll.error or "").lower()
    if "http 429" in error:
        return "rate_limited"
    if "http 5" in error:
        return "http_5xx"
    if "http 4" in error:
        return "http_4xx"
    if "timed out" in error or "timeout" in error:
        return "timeout"
    if "private" in error or "refused" in error or "forbidden by robots" in error:
        return "refused"
    if "not an rss or atom feed" in error:
        return "not_a_feed"
    if "dns" in error or "lookup" in error:
        return "dns"
    return "network" if error else "no_response"
