"""Authentication: Cognito JWT verification and rate limiting."""
