"""Alerts: a rule decides in the archive's transaction (outbox), dispatchers deliver
to the channels (email, Slack, a JSON webhook), each at its own pace."""
