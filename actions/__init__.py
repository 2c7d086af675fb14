"""The rasa_sdk action server of the bot (``python -m actions.server``).

Modules, one concept each: :mod:`~actions.introduction` (opening, privacy
answers), :mod:`~actions.consent_form` (the two consent questions and the
ledger), :mod:`~actions.lead_form` (questions, corrections, validation),
:mod:`~actions.field_parsing` (pure parsers), :mod:`~actions.digressions`
(why, skip, stop, removed numbers), :mod:`~actions.submission` (the vault
hand-off), :mod:`~actions.visitor_requests` (human hand-off, erasure),
:mod:`~actions.server` (the loopback server with generic errors).
Nothing here is imported by other packages.
"""
