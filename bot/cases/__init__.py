"""Cases (办件): applications filed with departments, their timelines, import, and the demo cases.

Imports ``bot.core``, ``bot.citizens`` (ownership checks) and ``bot.work_orders`` (a 督办 order for an overdue case)."""
