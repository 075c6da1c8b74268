"""The only code that touches Rasa's internals: the tracker and lock stores built from our settings, the
patches to Rasa, and our NLU components. Imports only ``bot.core``, and ``bot.appeals.extraction`` for the
words of an explicit request."""
