"""Schemathesis checks of trackme's own (loaded through SCHEMATHESIS_HOOKS by test/fuzz/schemathesis.ts).

A few operations refuse schema-valid requests on purpose, for rules a JSON schema cannot state
(test/fuzz/schemathesis.toml lists them). Accepting any 400 there would also hide a validator that
drifted from the schema, so a 400 to schema-valid data must carry one of the documented reasons:
a problem `code`, or a field with the message the rule gives.
"""

import schemathesis


def _fields(problem):
    return {(error.get("field"), error.get("message", "")) for error in problem.get("errors") or []}


def _only_fields(problem, allowed):
    """Every reported field is one of `allowed` (field -> message fragments), and there is at least one."""
    fields = _fields(problem)
    return bool(fields) and all(
        field in allowed and any(fragment in message for fragment in allowed[field]) for field, message in fields
    )


# operationId -> what a deliberate refusal of schema-valid data looks like
KNOWN_REFUSALS = {
    # a move the configured process does not allow, or "next"/"prev" past either end
    "moveClientStage": lambda problem: problem.get("code") == "illegal_transition",
    "patchClientStage": lambda problem: problem.get("code") == "illegal_transition",
    # a range of more than 400 periods, `from` after `to`, or a date the calendar has not got (2025-02-30)
    "listMetrics": lambda problem: _only_fields(
        problem,
        {
            "from": ("at most", "must not be after", "calendar date"),
            "to": ("calendar date",),
        },
    ),
    # a rollup of a period more than a day ahead, or a date the calendar has not got
    "triggerRollup": lambda problem: _only_fields(problem, {"period": ("in the future", "calendar date")}),
    "triggerRollupCompat": lambda problem: _only_fields(problem, {"period": ("in the future", "calendar date")}),
}


@schemathesis.check
def refusal_names_a_documented_reason(ctx, response, case):
    meta = case.meta
    if response.status_code != 400 or meta is None or not meta.generation.mode.is_positive:
        return None
    operation_id = case.operation.definition.raw.get("operationId")
    rule = KNOWN_REFUSALS.get(operation_id)
    if rule is None:
        return None  # positive_data_acceptance already fails a 400 where none is expected
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or not rule(problem):
        raise AssertionError(
            f"{operation_id} refused schema-valid data without a documented reason: {response.text[:300]}"
        )
    return None
