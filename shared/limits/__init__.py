"""The upstream rate limiter: one budget per API key across every instance."""
