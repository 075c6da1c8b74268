"""The 12345 hotline's domain, one package per domain (see each package's docstring).

It knows nothing of Rasa's HTTP server, the messaging platforms or the staff's pages: it never imports
``channels`` or ``console``.
"""
