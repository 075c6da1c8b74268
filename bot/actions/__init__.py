"""The action server: thin rasa-sdk actions over the domain in ``bot``.

Run with ``python -m rasa_sdk --actions bot.actions``.
"""
