"""Twilio: voice (TwiML) and SMS, the signature check, the REST API for sending, speech rendering."""
