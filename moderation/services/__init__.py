"""Use cases: what the service does, called by the faces (HTTP API, pages, CLI)
with the store, the settings and an actor, never with an HTTP request."""
