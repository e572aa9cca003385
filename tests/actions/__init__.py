"""Tests of provisioning: planner, executor, desired state, audit, CLI."""
