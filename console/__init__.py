"""The staff side: the agent console and its login, the handoff desk, the supervisor dashboard, the
department API, and the outbox notifier. It imports ``bot`` and the connectors of ``channels``; neither imports it."""
