"""API Gateway's side: the resolver and handler wrapper, credentials, bodies, the envelope, CORS, OpenAPI."""
