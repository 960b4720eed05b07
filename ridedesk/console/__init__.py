"""The agent console (人工客服工作台) and the rider widget's host.

* ``python -m ridedesk.console serve --host 127.0.0.1 --port 8080``: the web app;
* ``python -m ridedesk.console create-admin --username U`` / ``create-agent``: accounts.

The console only calls the core services (:mod:`ridedesk.services`) and Rasa's HTTP API
(:mod:`ridedesk.console.rasa_client`); it has no business rules and no SQL of its own.
"""


def create_app(*args, **kwargs):
    """Builds the Sanic app (see :func:`ridedesk.console.app.create_app`)."""
    from ridedesk.console.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
