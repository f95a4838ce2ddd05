"""The JSON API under /api/v1 (the mobile-app and partner channel) and its OpenAPI description."""
