"""The staff side: the agent console and its login, the handoff desk, the supervisor dashboard, the
department API, the outbox notifier and ``/metrics``. It imports ``bot`` and the connectors of
``channels``; neither imports it."""
