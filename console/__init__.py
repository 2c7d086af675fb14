"""The web application: sales console, chat gateway, privacy self-service.

What other packages may use:

* :func:`console.app.create_app`: the application (``uvicorn --factory``);
* :mod:`console.access`: ``requires``, ``public`` and ``sign_in_step``, the
  access rule every route declares;
* :func:`console.queue.stop_follow_ups` and the sign-in building blocks are
  for the console's own pages and the privacy officer's pages.

Nothing is imported here, so that ``console.access`` stays cheap to import.
"""
