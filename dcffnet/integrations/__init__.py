"""Adapters (optional extras): the evaluation toolkits ``got10k`` and the VOT toolkit's TraX, and
``supervision`` detector pipelines (:mod:`dcffnet.integrations.supervision`)."""
