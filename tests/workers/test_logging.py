"""JSON log lines: one object per line, with ids, without secrets."""

from __future__ import annotations

import io
import json
import logging

from asc_access.queue.logging import JsonFormatter, log_context, redact

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n"
    "-----END PRIVATE KEY-----"
)
JWT = "eyJhbGciOiJFUzI1NiIsImtpZCI6IkFCQyJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("asc_access.test.workers.logging")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_records_carry_the_bound_ids_and_extras() -> None:
    logger, stream = _capture()
    with log_context(connection="acme", connection_id=7, request_key="manual:1"):
        with log_context(run_id=42):
            logger.info("sync %s", "succeeded", extra={"requests_used": 3})
        logger.info("after")
    logger.info("outside")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "sync succeeded"
    assert first["level"] == "info"
    assert (first["connection"], first["connection_id"], first["run_id"]) == ("acme", 7, 42)
    assert first["request_key"] == "manual:1"
    assert first["requests_used"] == 3
    assert "run_id" not in second
    assert second["connection_id"] == 7
    assert "connection_id" not in third


def test_secrets_are_masked_wherever_they_appear() -> None:
    logger, stream = _capture()
    try:
        raise ValueError(f"bad key {PEM}")
    except ValueError:
        logger.exception(
            "calling with Bearer %s via redis://:hunter2@redis:6379/0", JWT, extra={"pem": PEM}
        )
    line = stream.getvalue()
    assert "BEGIN PRIVATE KEY" not in line
    assert "MIGTAgEA" not in line
    assert "eyJhbGci" not in line
    assert "hunter2" not in line
    doc = json.loads(line)
    assert doc["error_type"] == "ValueError"
    assert "redis://:***@redis:6379/0" in doc["msg"]


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "sync of acme (key ABC123DEFG) used 4 requests; https://api.example.com/v1/users"
    assert redact(text) == text
