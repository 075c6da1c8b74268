"""Appeals (诉求): the category tree, the labelled examples, the keyword lexicon, the classifier and its line stream,
routing a category to a department, the extraction of a report, and a centre's own trained model.

Imports only ``bot.core``."""
