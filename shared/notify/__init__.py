"""Notifications: targets, Standard Webhooks signing, delivery with retries, dead letters, URL safety."""
