"""The Rasa project and the modules the Rasa server imports.

Everything here that the Rasa server (Python 3.10) imports depends only on
the standard library, ``cryptography`` and what Rasa itself ships
(SQLAlchemy 1.4, Sanic): never on :mod:`leads`. :mod:`bot.redaction` and
:mod:`bot.tracker_admin` are also imported by the application (Python 3.11,
SQLAlchemy 2).
"""
