"""The daemon: APScheduler runs crawl passes on one asyncio reactor for the life of the
process, alert delivery beside them, and a health and metrics endpoint."""
