"""Finance's events: what it publishes (`published`) and the handlers of the topics it consumes (`handlers`)."""
