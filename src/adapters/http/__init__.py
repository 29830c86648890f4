"""HTTP: the metadata service (Starlette), its OpenAPI document, access rules and metrics, its
dashboard, and the client the apps use against it."""
