"""Checks of our own, loaded by schemathesis through SCHEMATHESIS_HOOKS."""

import schemathesis

KINDS = {
    "unauthorized", "forbidden", "not_found", "validation", "unprocessable", "conflict",
    "payload_too_large", "rate_limited", "unavailable", "internal",
}


@schemathesis.check
def errors_are_json_naming_the_field(ctx, response, case):
    """Every 4xx is the documented JSON error; a 400 or 422 names the offending field."""
    if not 400 <= response.status_code < 500 or response.status_code == 405:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}")
    if not isinstance(body, dict) or body.get("error") not in KINDS:
        raise AssertionError(f"{response.status_code} is not the documented error: {body!r}")
    if response.status_code in (400, 422) and not body.get("field"):
        raise AssertionError(f"{response.status_code} names no field: {body!r}")
    return None
