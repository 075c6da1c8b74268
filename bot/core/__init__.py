"""The ground floor: settings, the database and its tables, the one clock, shared state, personal data, numerals.

It imports nothing else of the project; every other package may import it."""
