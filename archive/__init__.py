"""The archive: PostgreSQL storage shared by the crawler, alerts, scheduler and web."""
