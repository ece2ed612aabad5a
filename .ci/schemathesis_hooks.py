"""Checks of `.ci/schemathesis` beyond schemathesis's own (see schemathesis.toml)."""

import json
import re

import schemathesis

# 422 codes that depend on stored data, never on the request's shape (docs/api.md "Errors").
STORED_DATA_CODES = {
    "unknown_reference",
    "household_not_member",
    "insufficient_stock",
    "product_not_listed",
    "no_rules",
    "refund_exceeds",
    "period_not_ended",
    # CSV files: the document gives an import body as text; its rows' rules are in docs/api.md.
    "import_rejected",
    "bad_encoding",
    "statement_unreadable",
    "statement_corrupt",
    # Feeds: what the network and the deployment say (the base URL's host resolves to public
    # addresses; a key to seal secrets with is configured), not the request's shape.
    "address_not_allowed",
    "secret_key_missing",
}

# Rules across fields or against the clock, which JSON Schema cannot state: (field, message start).
RULES_NO_SCHEMA_STATES = {
    ("household_share", "household_share + station_fee_rate + collective_rate must not exceed 1"),
    ("received_at", "must not be in the future"),
    ("covers_from", "must be given with covers_to"),
    ("covers_to", "must be given with covers_from"),
    ("covers_to", "must not be before covers_from"),
    ("covers_to", "a payment covers at most"),
    ("from", "must not be after to"),
    ("to", "a report covers at most"),
    # An order line names its gross one way: a unit price or the amount paid (item index removed).
    ("lines[].unit_price", "give exactly one of unit_price and amount"),
    # Whose webhook endpoint: an alliance user's own; an admin names the alliance (the caller's
    # role decides, which a schema does not state).
    ("alliance_id", "is required for an admin"),
}


@schemathesis.check
def refused_only_for_stored_data(ctx, response, case):
    """A schema-valid request answered 422 must have been refused for what is stored."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        error = json.loads(response.text)["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"422 without the error envelope: {response.text[:200]}")
    code, field, message = error.get("code"), error.get("field"), error.get("message", "")
    if code in STORED_DATA_CODES:
        return None
    field = re.sub(r"\[[0-9]+\]", "[]", field or "")
    if code == "invalid_field" and any(field == f and message.startswith(m) for f, m in RULES_NO_SCHEMA_STATES):
        return None
    raise AssertionError(
        f"Schema-valid request refused for its shape: {code} {field or ''}: {message}"
    )
