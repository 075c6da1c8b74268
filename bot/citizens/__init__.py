"""Citizens: one identity across channels keyed by a verified phone number, and the proof that a case or
order is theirs (last digits, lockout). Imports only ``bot.core``."""
