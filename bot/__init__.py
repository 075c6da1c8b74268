"""The 12345 hotline's domain: service catalogue, cases, personal data, storage."""
