"""Telegram: the webhook connector and sending through the Bot API (python-telegram-bot)."""
