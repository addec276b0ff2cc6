"""The HTTP layer: request and response schemas, dependencies, routes."""
