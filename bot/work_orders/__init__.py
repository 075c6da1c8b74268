"""Work orders (工单): filing, the lifecycle, deadlines and working days, the outbox of notifications,
hotspots, the scheduler, board import, dashboard queries and department keys.

Imports ``bot.core``, ``bot.citizens`` and ``bot.appeals``."""
