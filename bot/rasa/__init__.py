"""The only code that touches Rasa's internals: the tracker and lock stores built from our settings, and
the patches to Rasa. Imports only ``bot.core``."""
