"""The web chat: the page and its API, the message log, live delivery, phone verification by SMS code."""
