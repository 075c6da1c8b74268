"""The action server: thin rasa-sdk actions over the domain in ``bot``.

Run with ``python -m rasa_sdk --actions bot.actions``.
"""

from bot.actions.server import release_at_stop

release_at_stop()
