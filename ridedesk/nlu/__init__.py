"""RideDesk custom Rasa NLU components (see :mod:`ridedesk.nlu.entities`)."""
