"""Handoff to a person: handoff records, the queue, agents' accounts and sessions, service hours.

Imports only ``bot.core``."""
