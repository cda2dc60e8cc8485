"""The dashboard's events: the handlers of the topics it consumes (`handlers`). It publishes nothing: it is a read
model of the other services' events, so it has no `published` module."""
