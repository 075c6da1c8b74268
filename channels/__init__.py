"""Channel connectors: each turns a platform's requests into user messages and back."""
