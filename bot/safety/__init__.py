"""Safety first: danger, violence and despair recognised in a citizen's words, with what to say first.

The check runs before the dialogue policy, on every channel and in every state (``channels.connector``
asks it before each turn). Imports nothing of the project.
"""
