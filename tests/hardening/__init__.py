"""Hardening: tests that try to break the product (issue 8)."""
