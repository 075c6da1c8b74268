"""The service catalogue (办事指南): formats it is imported from, storage, search, rendering of answers,
picking among offered choices, and the NLU files generated from it. Imports only ``bot.core``."""
