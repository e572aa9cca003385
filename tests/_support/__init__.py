"""Shared test support: sandbox runners, key generators, fixtures."""
