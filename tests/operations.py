"""GraphQL documents and small helpers the tests share, written as a POS would send them."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

USER_ERRORS = "userErrors { code message field }"
TRANSACTION = (
    "transaction { id kind points balanceAfter customerId storeId terminalId saleId "
    "idempotencyKey createdAt }"
)
CUSTOMER = (
    "id externalId name email phone cardNumber balance balanceVersion lifetimeEarned enrolledAt"
)

CREATE_STORE = f"""
mutation($input: CreateStoreInput!) {{
  createStore(input: $input) {{ store {{ id name }} {USER_ERRORS} }}
}}"""

ENROLL = f"""
mutation($input: EnrollCustomerInput!) {{
  enrollCustomer(input: $input) {{ customer {{ {CUSTOMER} }} {USER_ERRORS} }}
}}"""

LOOKUP = f"""
query($lookup: CustomerLookup!) {{ customer(lookup: $lookup) {{ {CUSTOMER} }} }}"""

EARN = f"""
mutation($input: EarnPointsInput!) {{
  earnPoints(input: $input) {{ {TRANSACTION} customer {{ {CUSTOMER} }} {USER_ERRORS} }}
}}"""

REDEEM = f"""
mutation($input: RedeemPointsInput!) {{
  redeemPoints(input: $input) {{ {TRANSACTION} customer {{ {CUSTOMER} }} {USER_ERRORS} }}
}}"""

HISTORY = """
query($lookup: CustomerLookup!, $first: Int, $after: String) {
  customer(lookup: $lookup) {
    transactions(first: $first, after: $after) {
      edges { cursor node { id kind points balanceAfter storeId terminalId saleId } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def line(
    unit_price: str = "10.00", quantity: int = 1, category: str = "grocery", sku: str = "SKU-1"
) -> dict[str, Any]:
    return {"sku": sku, "category": category, "quantity": quantity, "unitPrice": unit_price}


async def create_store(gql: GraphQLClient, store_id: str = "S1", name: str = "Main") -> None:
    result = await gql.data(CREATE_STORE, {"input": {"id": store_id, "name": name}})
    assert result["createStore"]["userErrors"] == []


async def enroll(gql: GraphQLClient, **identifiers: str) -> dict[str, Any]:
    result = await gql.data(ENROLL, {"input": identifiers})
    payload: dict[str, Any] = result["enrollCustomer"]
    assert payload["userErrors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def earn(
    gql: GraphQLClient,
    customer_id: str,
    key: str,
    lines: list[dict[str, Any]] | None = None,
    store_id: str = "S1",
    **extra: Any,
) -> dict[str, Any]:
    input_ = {
        "customerId": customer_id,
        "idempotencyKey": key,
        "storeId": store_id,
        "lines": lines if lines is not None else [line()],
        **extra,
    }
    payload: dict[str, Any] = (await gql.data(EARN, {"input": input_}))["earnPoints"]
    return payload


async def redeem(
    gql: GraphQLClient,
    customer_id: str,
    key: str,
    points: int | None,
    store_id: str = "S1",
    **extra: Any,
) -> dict[str, Any]:
    input_ = {
        "customerId": customer_id,
        "idempotencyKey": key,
        "storeId": store_id,
        "points": points,
        **extra,
    }
    payload: dict[str, Any] = (await gql.data(REDEEM, {"input": input_}))["redeemPoints"]
    return payload
