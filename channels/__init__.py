"""Citizen connectors only: each turns a platform's requests into user messages and back, and registers
its outbound protocol in ``registry.py``. What they share: ``connector.py``, ``turn_order.py``, ``text.py``,
``pages.py``."""
