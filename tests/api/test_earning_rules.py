"""Earning rules as an administrator keeps them: in force at once, versioned, explained."""

from __future__ import annotations

from typing import Any

import pytest

from api.auth import Role
from api.settings import Settings
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, enroll, line

RULE = (
    "id version name kind rate bonusPoints category sku storeIds startsAt endsAt daysOfWeek "
    "fromTime untilTime timezone minSpend maxPointsPerSale maxPointsPerCustomerPerDay "
    "active current"
)
CREATE_RULE = f"""
mutation($input: EarningRuleInput!) {{
  createEarningRule(input: $input) {{ earningRule {{ {RULE} }} {USER_ERRORS} }}
}}"""
UPDATE_RULE = f"""
mutation($id: ID!, $input: EarningRuleInput!) {{
  updateEarningRule(id: $id, input: $input) {{ earningRule {{ {RULE} }} {USER_ERRORS} }}
}}"""
RULES = """
query($includeRetired: Boolean!) {
  earningRules(includeRetired: $includeRetired) { id version name kind active current }
}"""
VERSIONS = "query($id: ID!) { earningRuleVersions(id: $id) { id version name rate current } }"
BREAKDOWN = (
    "points exactPoints total lines { lineNumber sku category amount rate multiplier points } "
    "parts { kind ruleId ruleVersion ruleName lineNumber points }"
)
EARN_EXPLAINED = f"""
mutation($input: EarnPointsInput!) {{
  earnPoints(input: $input) {{
    transaction {{ id points breakdown {{ transactionId {BREAKDOWN} }} }} {USER_ERRORS}
  }}
}}"""
SALE_BREAKDOWN = f"""
query($id: ID!) {{ saleBreakdown(transactionId: $id) {{ transactionId {BREAKDOWN} }} }}"""


async def customer_in_store(gql: GraphQLClient) -> str:
    await create_store(gql)
    return str((await enroll(gql, email="ada@example.com"))["id"])


async def save_rule(
    gql: GraphQLClient, rule_id: str | None = None, **input_: Any
) -> dict[str, Any]:
    if rule_id is None:
        payload = (await gql.data(CREATE_RULE, {"input": input_}))["createEarningRule"]
    else:
        variables = {"id": rule_id, "input": input_}
        payload = (await gql.data(UPDATE_RULE, variables))["updateEarningRule"]
    assert payload["userErrors"] == [], payload
    rule: dict[str, Any] = payload["earningRule"]
    return rule


async def earn_explained(
    gql: GraphQLClient, customer_id: str, key: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    input_ = {"customerId": customer_id, "idempotencyKey": key, "storeId": "S1", "lines": lines}
    payload = (await gql.data(EARN_EXPLAINED, {"input": input_}))["earnPoints"]
    assert payload["userErrors"] == [], payload
    transaction: dict[str, Any] = payload["transaction"]
    return transaction


def parts(transaction: dict[str, Any]) -> list[tuple[str, str | None, int | None, str]]:
    """(kind, "rule vN" or None for the programme's base rate, line, points)."""
    return [
        (
            part["kind"],
            None if part["ruleId"] is None else f"{part['ruleName']} v{part['ruleVersion']}",
            part["lineNumber"],
            part["points"],
        )
        for part in transaction["breakdown"]["parts"]
    ]


async def rules(gql: GraphQLClient, *, include_retired: bool = True) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await gql.data(RULES, {"includeRetired": include_retired}))[
        "earningRules"
    ]
    return found


TEN = [line("10.00")]
Parts = list[tuple[str, str | None, int | None, str]]
KINDS: list[tuple[dict[str, Any], list[dict[str, Any]], int, Parts]] = [
    ({"kind": "BASE_RATE", "rate": "2"}, TEN, 20, [("RATE", "r v1", 1, "20.00")]),
    (
        {"kind": "CATEGORY_RATE", "rate": "1.5", "category": "produce"},
        [line("3.33", 1, "produce", "APPLE"), line("2.00")],
        6,  # 4.995 + 2.00 at the programme's base rate = 6.995, rounded down once
        [("RATE", "r v1", 1, "4.995"), ("RATE", None, 2, "2.00")],
    ),
    (
        {"kind": "PRODUCT_RATE", "rate": "5", "sku": "COFFEE"},
        [line("4.20", 2, "drinks", "COFFEE")],
        42,
        [("RATE", "r v1", 1, "42.00")],
    ),
    (
        {"kind": "MULTIPLIER", "rate": "3"},
        TEN,
        30,
        [("RATE", None, 1, "10.00"), ("MULTIPLIER", "r v1", 1, "20.00")],
    ),
    (
        {"kind": "FLAT_BONUS", "bonusPoints": 25},
        TEN,
        35,
        [("RATE", None, 1, "10.00"), ("BONUS", "r v1", None, "25.00")],
    ),
]


@pytest.mark.parametrize(
    ("rule", "lines", "points", "expected_parts"), KINDS, ids=[kind["kind"] for kind, *_ in KINDS]
)
async def test_a_rule_of_each_kind_applies_to_the_very_next_earn(
    gql: GraphQLClient,
    rule: dict[str, Any],
    lines: list[dict[str, Any]],
    points: int,
    expected_parts: Parts,
) -> None:
    customer_id = await customer_in_store(gql)
    before = await earn_explained(gql, customer_id, "before", lines)

    created = await save_rule(gql, name="r", **rule)
    after = await earn_explained(gql, customer_id, "after", lines)

    assert (created["kind"], created["version"], created["current"]) == (rule["kind"], 1, True)
    assert {part["ruleId"] for part in before["breakdown"]["parts"]} == {None}
    assert after["points"] == points
    assert parts(after) == expected_parts
    assert {p["ruleId"] for p in after["breakdown"]["parts"]} - {None} == {created["id"]}


async def test_a_rule_comes_back_as_saved_and_waits_for_its_start(gql: GraphQLClient) -> None:
    customer_id = await customer_in_store(gql)

    rule = await save_rule(
        gql, name="Evening produce", kind="CATEGORY_RATE", rate="2.5", category="produce",
        storeIds=["S2", "S1"], startsAt="2099-01-01T09:00:00+02:00",
        endsAt="2099-12-31T00:00:00+00:00", daysOfWeek=[5, 1], fromTime="17:00",
        untilTime="21:30", timezone="Europe/London", minSpend="20",
        maxPointsPerSale=100, maxPointsPerCustomerPerDay=200,
    )  # fmt: skip
    earned = await earn_explained(gql, customer_id, "too-soon", [line("30.00", 1, "produce")])

    assert {key: value for key, value in rule.items() if key != "id"} == {
        "version": 1, "name": "Evening produce", "kind": "CATEGORY_RATE", "rate": "2.50",
        "bonusPoints": None, "category": "produce", "sku": None, "storeIds": ["S1", "S2"],
        "startsAt": "2099-01-01T07:00:00+00:00", "endsAt": "2099-12-31T00:00:00+00:00",
        "daysOfWeek": [1, 5], "fromTime": "17:00", "untilTime": "21:30",
        "timezone": "Europe/London", "minSpend": "20.00", "maxPointsPerSale": 100,
        "maxPointsPerCustomerPerDay": 200, "active": True, "current": True,
    }  # fmt: skip
    assert [listed["id"] for listed in await rules(gql, include_retired=False)] == [rule["id"]]
    assert parts(earned) == [("RATE", None, 1, "30.00")]


def listing(found: list[dict[str, Any]]) -> list[tuple[str, int, bool, bool]]:
    return [(rule["name"], rule["version"], rule["active"], rule["current"]) for rule in found]


async def test_earning_rules_lists_current_versions_and_retired_ones_only_when_asked(
    gql: GraphQLClient,
) -> None:
    produce = {"name": "Produce", "kind": "CATEGORY_RATE", "category": "produce"}
    bonus: dict[str, Any] = {"name": "Bonus", "kind": "FLAT_BONUS", "bonusPoints": 5}
    produce_id = (await save_rule(gql, rate="2", **produce))["id"]
    bonus_id = (await save_rule(gql, **bonus))["id"]
    await save_rule(gql, produce_id, rate="3", **produce)
    await save_rule(gql, bonus_id, active=False, **bonus)

    in_force = await rules(gql, include_retired=False)
    every = await rules(gql)

    assert listing(in_force) == [("Produce", 2, True, True)]
    assert listing(every) == [("Produce", 2, True, True), ("Bonus", 2, False, True)]
    assert [rule["id"] for rule in every] == [produce_id, bonus_id]


async def test_earning_rules_leaves_out_a_rule_whose_window_has_ended_unless_asked(
    gql: GraphQLClient,
) -> None:
    ended = await save_rule(
        gql, name="January", kind="BASE_RATE", rate="2",
        startsAt="2020-01-01T00:00:00+00:00", endsAt="2020-02-01T00:00:00+00:00",
    )  # fmt: skip

    # "The earning rules in force or waiting for their start": an ended rule is neither.
    assert await rules(gql, include_retired=False) == []
    assert [rule["id"] for rule in await rules(gql)] == [ended["id"]]


async def test_an_update_saves_version_2_and_keeps_version_1_as_history(
    gql: GraphQLClient,
) -> None:
    v1 = await save_rule(gql, name="Produce x2", kind="CATEGORY_RATE", rate="2", category="produce")

    v2 = await save_rule(
        gql, v1["id"], name="Produce x3", kind="CATEGORY_RATE", rate="3", category="produce"
    )

    assert (v2["id"], v2["version"], v2["rate"], v2["current"]) == (v1["id"], 2, "3.00", True)
    versions = (await gql.data(VERSIONS, {"id": v1["id"]}))["earningRuleVersions"]
    assert versions == [
        {"id": v1["id"], "version": 2, "name": "Produce x3", "rate": "3.00", "current": True},
        {"id": v1["id"], "version": 1, "name": "Produce x2", "rate": "2.00", "current": False},
    ]


async def test_an_earn_keeps_pointing_at_the_rule_version_it_was_made_under(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_in_store(gql)
    produce = [line("5.00", 1, "produce", "APPLE")]
    v1 = await save_rule(gql, name="Produce x2", kind="CATEGORY_RATE", rate="2", category="produce")
    under_v1 = await earn_explained(gql, customer_id, "sale-1", produce)

    await save_rule(
        gql, v1["id"], name="Produce x3", kind="CATEGORY_RATE", rate="3", category="produce"
    )
    under_v2 = await earn_explained(gql, customer_id, "sale-2", produce)
    explained = (await gql.data(SALE_BREAKDOWN, {"id": under_v1["id"]}))["saleBreakdown"]

    assert (under_v1["points"], under_v2["points"]) == (10, 15)
    assert parts({"breakdown": explained}) == [("RATE", "Produce x2 v1", 1, "10.00")]
    assert explained["lines"][0]["rate"] == "2.00"
    assert explained == under_v1["breakdown"]
    assert parts(under_v2) == [("RATE", "Produce x3 v2", 1, "15.00")]


async def test_a_retired_rule_stops_applying(gql: GraphQLClient) -> None:
    customer_id = await customer_in_store(gql)
    bonus = await save_rule(gql, name="Bonus", kind="FLAT_BONUS", bonusPoints=25)
    with_bonus = await earn_explained(gql, customer_id, "sale-1", TEN)

    retired = await save_rule(
        gql, bonus["id"], name="Bonus", kind="FLAT_BONUS", bonusPoints=25, active=False
    )
    without = await earn_explained(gql, customer_id, "sale-2", TEN)

    assert (retired["version"], retired["active"]) == (2, False)
    assert (with_bonus["points"], without["points"]) == (35, 10)
    assert parts(without) == [("RATE", None, 1, "10.00")]


async def test_why_did_i_get_37_points(gql: GraphQLClient) -> None:
    customer_id = await customer_in_store(gql)
    rate = await save_rule(
        gql, name="Produce x2", kind="CATEGORY_RATE", rate="2", category="produce",
        maxPointsPerSale=15,
    )  # fmt: skip
    boost = await save_rule(
        gql, name="Produce week", kind="MULTIPLIER", rate="1.5", category="produce"
    )
    bonus = await save_rule(
        gql, name="Basket bonus", kind="FLAT_BONUS", bonusPoints=10, minSpend="10.00"
    )

    earned = await earn_explained(
        gql, customer_id, "sale-37", [line("4.25", 2, "produce", "APPLES"), line("1.33", 3)]
    )
    explained = (await gql.data(SALE_BREAKDOWN, {"id": earned["id"]}))["saleBreakdown"]

    assert earned["points"] == 37
    assert explained == earned["breakdown"]
    assert explained == {
        "transactionId": earned["id"],
        "points": 37,
        "exactPoints": "37.49",
        "total": "12.49",
        "lines": [
            {"lineNumber": 1, "sku": "APPLES", "category": "produce", "amount": "8.50",
             "rate": "2.00", "multiplier": "1.50", "points": "25.50"},
            {"lineNumber": 2, "sku": "SKU-1", "category": "grocery", "amount": "3.99",
             "rate": "1.00", "multiplier": "1.00", "points": "3.99"},
        ],
        "parts": [
            {"kind": "RATE", "ruleId": rate["id"], "ruleVersion": 1, "ruleName": "Produce x2",
             "lineNumber": 1, "points": "17.00"},
            {"kind": "MULTIPLIER", "ruleId": boost["id"], "ruleVersion": 1,
             "ruleName": "Produce week", "lineNumber": 1, "points": "8.50"},
            {"kind": "RATE", "ruleId": None, "ruleVersion": None, "ruleName": None,
             "lineNumber": 2, "points": "3.99"},
            {"kind": "BONUS", "ruleId": bonus["id"], "ruleVersion": 1,
             "ruleName": "Basket bonus", "lineNumber": None, "points": "10.00"},
            # The produce rate gave 17.00 against its cap of 15 a sale.
            {"kind": "CAP", "ruleId": rate["id"], "ruleVersion": 1, "ruleName": "Produce x2",
             "lineNumber": None, "points": "-2.00"},
        ],
    }  # fmt: skip


async def test_a_daily_cap_per_customer_counts_every_earn_of_the_day(gql: GraphQLClient) -> None:
    customer_id = await customer_in_store(gql)
    other_id = str((await enroll(gql, email="bo@example.com"))["id"])
    await save_rule(
        gql, name="Produce x3", kind="CATEGORY_RATE", rate="3", category="produce",
        maxPointsPerCustomerPerDay=20,
    )  # fmt: skip
    produce = [line("5.00", 1, "produce", "APPLE")]

    first = await earn_explained(gql, customer_id, "morning", produce)
    second = await earn_explained(gql, customer_id, "evening", produce)
    third = await earn_explained(gql, customer_id, "night", produce)
    someone_else = await earn_explained(gql, other_id, "other", produce)

    assert [first["points"], second["points"], third["points"]] == [15, 5, 0]
    assert parts(second) == [
        ("RATE", "Produce x3 v1", 1, "15.00"),
        ("CAP", "Produce x3 v1", None, "-10.00"),
    ]
    assert parts(third)[1] == ("CAP", "Produce x3 v1", None, "-15.00")
    assert someone_else["points"] == 15


BAD_RULES = [
    pytest.param({"kind": "CATEGORY_RATE", "category": "produce"}, "rate", id="no-rate"),
    pytest.param({"kind": "BASE_RATE", "rate": "abc"}, "rate", id="rate-not-a-number"),
    pytest.param({"kind": "MULTIPLIER", "rate": "1"}, "rate", id="multiplier-of-one"),
    pytest.param({"kind": "FLAT_BONUS"}, "bonusPoints", id="bonus-without-points"),
    pytest.param({"kind": "FLAT_BONUS", "bonusPoints": 0}, "bonusPoints", id="bonus-of-zero"),
    pytest.param({"kind": "BASE_RATE", "rate": "1", "bonusPoints": 5}, "bonusPoints", id="mixed"),
    pytest.param({"kind": "CATEGORY_RATE", "rate": "2"}, "category", id="no-category"),
    pytest.param({"kind": "PRODUCT_RATE", "rate": "2"}, "sku", id="no-sku"),
    pytest.param(
        {
            "kind": "BASE_RATE",
            "rate": "1",
            "startsAt": "2030-02-01T00:00:00+00:00",
            "endsAt": "2030-01-01T00:00:00+00:00",
        },
        "endsAt",
        id="ends-before-it-starts",
    ),
    pytest.param(
        {"kind": "BASE_RATE", "rate": "1", "startsAt": "2030-01-01T00:00:00"},
        "startsAt",
        id="start-without-offset",
    ),
    pytest.param({"kind": "BASE_RATE", "rate": "1", "timezone": "Mars/Olympus"}, "timezone"),
    pytest.param({"kind": "BASE_RATE", "rate": "1", "daysOfWeek": [8]}, "daysOfWeek"),
    pytest.param({"kind": "BASE_RATE", "rate": "1", "fromTime": "25:00"}, "fromTime"),
    pytest.param({"kind": "BASE_RATE", "rate": "1", "maxPointsPerSale": 0}, "maxPointsPerSale"),
]


@pytest.mark.parametrize(("input_", "field"), BAD_RULES)
async def test_a_bad_rule_is_invalid_input_on_its_field_and_nothing_is_stored(
    gql: GraphQLClient, input_: dict[str, Any], field: str
) -> None:
    payload = await gql.data(CREATE_RULE, {"input": {"name": "r", **input_}})

    refused = payload["createEarningRule"]
    assert refused["earningRule"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", field])
    ]
    assert await rules(gql) == []


async def test_a_bad_update_is_invalid_input_and_leaves_the_rule_as_it_was(
    gql: GraphQLClient,
) -> None:
    v1 = await save_rule(gql, name="Produce", kind="CATEGORY_RATE", rate="2", category="produce")
    no_rate = {"name": "Produce", "kind": "CATEGORY_RATE", "category": "produce"}
    valid = {**no_rate, "rate": "3"}

    bad = (await gql.data(UPDATE_RULE, {"id": v1["id"], "input": no_rate}))["updateEarningRule"]
    unknown = (await gql.data(UPDATE_RULE, {"id": "no-such-rule", "input": valid}))[
        "updateEarningRule"
    ]

    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("INVALID_INPUT", ["input", "rate"])
    ]
    assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [("INVALID_INPUT", ["id"])]
    assert bad["earningRule"] is None
    assert unknown["earningRule"] is None
    versions = (await gql.data(VERSIONS, {"id": v1["id"]}))["earningRuleVersions"]
    assert [(v["version"], v["rate"], v["current"]) for v in versions] == [(1, "2.00", True)]
    assert [rule["id"] for rule in await rules(gql)] == [v1["id"]]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CASHIER])
async def test_only_an_admin_may_create_or_update_a_rule(
    gql: GraphQLClient, settings: Settings, role: Role
) -> None:
    rule = await save_rule(gql, name="Bonus", kind="FLAT_BONUS", bonusPoints=5)
    staff = gql.with_token(mint(settings, role))
    input_ = {"name": "Mine", "kind": "FLAT_BONUS", "bonusPoints": 500}

    created = await staff.raw(CREATE_RULE, {"input": input_})
    updated = await staff.raw(UPDATE_RULE, {"id": rule["id"], "input": input_})

    for body in (created, updated):
        assert body["data"] is None
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    listed = await rules(gql)
    assert [(r["id"], r["version"], r["name"]) for r in listed] == [(rule["id"], 1, "Bonus")]


async def test_a_rule_may_name_a_category_no_till_has_sent_yet(gql: GraphQLClient) -> None:
    customer_id = await customer_in_store(gql)

    rule = await save_rule(
        gql, name="Pumpkins", kind="CATEGORY_RATE", rate="4", category="  seasonal-pumpkins  "
    )
    earned = await earn_explained(
        gql, customer_id, "autumn", [line("2.50", 1, "seasonal-pumpkins", "PUMPKIN")]
    )

    assert rule["category"] == "seasonal-pumpkins"
    assert earned["points"] == 10
    assert parts(earned) == [("RATE", "Pumpkins v1", 1, "10.00")]
