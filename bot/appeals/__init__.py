"""Appeals (诉求): the category tree, the classifier, and routing a category to a department.

Imports only ``bot.core``."""
