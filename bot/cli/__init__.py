"""``python -m bot …``: the command line of operators and developers. Imports any domain package."""
