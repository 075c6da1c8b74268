"""Ratings of conversations the bot handled alone (满意/基本满意/不满意 and the reason of a low one).

The rating of a handoff an agent closed is kept with the handoff (``bot.handoff.records``). Imports only ``bot.core``.
"""
