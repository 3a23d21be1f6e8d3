"""`backchannel run --role scheduler|worker` as users run it: real processes on loopback,
one scheduler and three workers against a farm of several hundred feeds on a few hosts,
watched through the archive, procrastinate's job table and the receivers.

The heaviest case (a bigger farm) runs only with BACKCHANNEL_DISTRIBUTED_TEST=full."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import psycopg
import pytest
from farm import Farm, Role
from newsroom import wait_until
from psycopg.rows import dict_row

FULL = os.environ.get("BACKCHANNEL_DISTRIBUTED_TEST") == "full"


@pytest.fixture
def env(cli_env, smtp) -> dict[str, str]:
    return {**cli_env,
            "BACKCHANNEL_TICK_SECONDS": "0.5",
            "BACKCHANNEL_ADAPTIVE_INTERVALS": "false",
            "BACKCHANNEL_CONCURRENT_REQUESTS_PER_DOMAIN": "1",  # the per-host limit measured
            "BACKCHANNEL_DOWNLOAD_DELAY": "0",
            "BACKCHANNEL_DOWNLOAD_TIMEOUT": "20",
            "BACKCHANNEL_WORKER_CONCURRENCY": "4",
            "BACKCHANNEL_HEARTBEAT_SECONDS": "2",
            "BACKCHANNEL_STALLED_SECONDS": "15",
            "BACKCHANNEL_KEEP_JOBS": "1",
            "BACKCHANNEL_LOG_LEVEL": "INFO",
            "BACKCHANNEL_SMTP_URL": smtp.url(),
            "BACKCHANNEL_EMAIL_TO": "desk@newsroom.test",
            "BACKCHANNEL_ALERT_BACKOFF_SECONDS": "0.2"}


@pytest.fixture
def roles():
    started: list[Role] = []

    def start(role, env, sources, log) -> Role:
        process = Role(role, env, sources, log)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def query(url: str, sql: str, *args):
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, args).fetchall()


def count(url: str, sql: str, *args) -> int:
    return next(iter(query(url, sql, *args)[0].values()))


def finished(url: str, farm: Farm, smtp) -> bool:
    """Every source polled, no task queued or running, every alert delivered."""
    try:
        return (count(url, "SELECT count(*) FROM sources WHERE last_polled_at IS NOT NULL")
                == farm.sources
                and count(url, "SELECT count(*) FROM procrastinate_jobs "
                               "WHERE status IN ('todo', 'doing')") == 0
                and count(url, "SELECT count(*) FROM alert_deliveries "
                               "WHERE status <> 'delivered'") == 0
                and len(smtp.mails) >= count(url, "SELECT count(*) FROM alerts"))
    except psycopg.errors.UndefinedTable:
        return False


def start_cluster(roles, env, tmp_path, farm: Farm, workers: int = 3):
    sources = tmp_path / "sources.toml"
    sources.write_text(farm.sources_toml(), encoding="utf-8")
    scheduler = roles("scheduler", env, sources, tmp_path / "scheduler.log")
    started = [roles("worker", env, sources, tmp_path / f"worker{n}.log")
               for n in range(workers)]
    return scheduler, started


def check_once(url: str, farm: Farm, smtp, processes) -> dict:
    """Every article stored once, every alert delivered once; the figures."""
    stored = query(url, "SELECT url FROM articles")
    urls = Counter(row["url"] for row in stored)
    assert set(urls) == set(farm.articles), _logs(processes)
    assert max(urls.values()) == 1
    alerts = query(url, "SELECT id FROM alerts")
    assert len(alerts) >= 1  # one story's outlets (or more, should stories split)
    ids = Counter(mail.message["Message-ID"] for mail in smtp.mails)
    duplicated = sum(n - 1 for n in ids.values())
    assert duplicated == 0, ids.most_common(3)
    assert len(ids) == len(alerts)
    delivered = count(url, "SELECT count(*) FROM alert_deliveries WHERE status = 'delivered'")
    assert delivered == len(alerts)
    return {"articles": len(stored), "alerts": len(alerts), "mails": len(smtp.mails),
            "duplicated_mails": duplicated}


def check_politeness(url: str, farm: Farm) -> dict:
    """Per host: never more requests at once than the per-host limit (1 here), and no
    two tasks of one host running at once, though different workers ran them."""
    peaks = farm.max_in_flight()
    assert peaks and max(peaks.values()) == 1, peaks
    # procrastinate's unique index (lock) WHERE status = 'doing' is what keeps two tasks
    # of one host from running at once; here, which workers ran each host's tasks
    rows = query(url, """SELECT lock, count(DISTINCT worker_id) AS workers
                         FROM procrastinate_jobs WHERE status = 'succeeded' GROUP BY lock""")
    events = {row["type"]: row["n"] for row in query(
        url, "SELECT type::text, count(*) AS n FROM procrastinate_events GROUP BY type")}
    return {"hosts": len(rows), "max_in_flight": max(peaks.values()),
            "max_workers_per_host": max(r["workers"] for r in rows), "events": events}


def _logs(processes) -> str:
    return "\n".join(f"--- {p.role} {p.proc.pid}\n{p.logs()[-2500:]}" for p in processes)


def test_scheduler_and_three_workers_store_and_alert_everything_once(
        env, database_url, smtp, roles, tmp_path):
    farm = Farm(hosts=8, feeds_per_host=40, articles_per_feed=1)  # 320 feeds, 320 pages
    try:
        started = time.monotonic()
        scheduler, workers = start_cluster(roles, env, tmp_path, farm)
        processes = [scheduler, *workers]
        assert wait_until(lambda: finished(database_url, farm, smtp), timeout=150), \
            _logs(processes)
        elapsed = time.monotonic() - started
        figures = check_once(database_url, farm, smtp, processes)
        recovered = scheduler.logs().count("of a dead worker put back in the queue")
        assert recovered == 0, scheduler.logs()[-3000:]  # no worker looked dead
        figures.update(check_politeness(database_url, farm))
        assert figures["max_workers_per_host"] >= 2  # cross-worker, not per-worker
        per_worker = query(database_url, """SELECT worker_id, count(*) AS n
            FROM procrastinate_jobs WHERE status = 'succeeded' GROUP BY worker_id""")
        assert len(per_worker) == 3, per_worker  # every worker took a share
        for process in processes:
            assert process.stop() == 0, process.logs()[-2000:]
        print(f"\n{farm.sources} feeds, 3 workers: {elapsed:.1f} s including start-up; "
              f"{figures}; tasks per worker {sorted(r['n'] for r in per_worker)}")
    finally:
        farm.close()


def kill_test(env, database_url, smtp, roles, tmp_path, farm: Farm) -> dict:
    scheduler, workers = start_cluster(roles, env, tmp_path, farm)
    processes = [scheduler, *workers]
    victim = workers[0]
    # wait until the victim is in the middle of tasks, and a part of the pass is done
    assert wait_until(lambda: "polled source" in victim.logs()
                      and count(database_url, "SELECT count(*) FROM articles")
                      >= len(farm.articles) // 5, timeout=90), _logs(processes)
    doing = count(database_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = "
                                "'doing'")
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    killed_at_articles = count(database_url, "SELECT count(*) FROM articles")
    assert wait_until(lambda: finished(database_url, farm, smtp), timeout=150), \
        _logs(processes)
    figures = check_once(database_url, farm, smtp, processes)
    recovered = count(database_url, """SELECT count(DISTINCT job_id) FROM procrastinate_events
                                       WHERE type = 'deferred_for_retry'""")
    retried_logged = scheduler.logs().count("of a dead worker put back in the queue")
    for process in processes[1:]:
        if process is not victim:
            assert process.stop() == 0, process.logs()[-2000:]
    assert scheduler.stop() == 0
    figures.update(running_at_kill=doing, stored_at_kill=killed_at_articles,
                   tasks_recovered=retried_logged, retry_events=recovered,
                   lost=len(farm.articles) - figures["articles"])
    return figures


def test_a_worker_killed_mid_pass_its_work_is_finished_by_the_others(
        env, database_url, smtp, roles, tmp_path):
    farm = Farm(hosts=6, feeds_per_host=40, articles_per_feed=1, page_delay=0.05)
    try:
        figures = kill_test(env, database_url, smtp, roles, tmp_path, farm)
        assert figures["lost"] == 0 and figures["duplicated_mails"] == 0
        print(f"\nkill test: {figures}")
    finally:
        farm.close()


@pytest.mark.skipif(not FULL, reason="the big farm: BACKCHANNEL_DISTRIBUTED_TEST=full")
def test_big_farm_with_a_kill(env, database_url, smtp, roles, tmp_path):
    farm = Farm(hosts=12, feeds_per_host=60, articles_per_feed=2, page_delay=0.02)
    try:
        figures = kill_test(env, database_url, smtp, roles, tmp_path, farm)
        figures.update(check_politeness(database_url, farm))
        assert figures["lost"] == 0 and figures["duplicated_mails"] == 0
        print(f"\nbig farm kill test: {figures}")
    finally:
        farm.close()
