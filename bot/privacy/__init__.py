"""Personal data at rest: what a conversation's stored events may hold, key rotation, and the retention job."""
