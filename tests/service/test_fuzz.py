"""Schemathesis throws generated requests at every API operation: never a 500.

The requests follow (and deliberately stretch) the published OpenAPI document;
whatever they carry, the service must answer with a 2xx or a 4xx in the one
error shape.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from _support.service import ADMIN_TOKEN, LiveServer

SHAPE = {"code", "cause", "title", "resolution", "message"}


def test_no_generated_request_gets_a_server_error(live: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(
                base_url=live.base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
            elif response.status_code >= 400:
                body = response.json()
                if not set(body) >= SHAPE:
                    failures.append(f"{case.method} {case.formatted_path}: {body}")

        check()
    assert not failures, "\n".join(sorted(set(failures))[:20])
