"""Sandbox fixtures for end-to-end tests (filled in by the sandbox work)."""
