"""The HTTP edge of Wenming: auth, validation, routing to services, OpenAPI, metrics."""
