"""Email nurture: sequences, scheduling, sending, unsubscribe, suppression.

Public entry points (import them from their modules; this package does not
import Celery or the web stack on its own):

- :func:`nurture.transactional.send_transactional_email`
- :func:`nurture.enrollment.stop_enrollments`
- :func:`nurture.unsubscribe.unsubscribe_lead`,
  :func:`nurture.unsubscribe.withdraw_email_consent`
- :data:`nurture.web.routes` (unsubscribe endpoints)
- ``python -m nurture.mail_sink`` (development SMTP sink)
- ``celery -A nurture.celery_app worker|beat``
"""

__all__: list[str] = []
