"""The pinned API's schema (tests/stripe_schema.py) and the fields the product reads from Stripe.

The second half reads the product's Stripe code (the adapter, the webhook processing, the
event queue consumer and ``mamba stripe smoke``) with ``ast``: every field it reads from a Stripe object (``_get(sub,
"items", "data")``, ``invoice.get("parent")``, ``session.url``, ``event["id"]``...) must exist in
the pinned version, so the product cannot depend on a removed shape. Each variable that holds a
Stripe object is named below with the resource (and path) it holds; a read through a variable
not named here fails the test until it is classified.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import stripe_schema

ROOT = Path(__file__).resolve().parents[2]

# file -> function -> variable -> (the resource, the path in it), or None: no Stripe object.
HOLDERS: dict[str, dict[str, dict[str, tuple[str, str] | None]]] = {
    "layers/core/mamba/adapters/stripe_client.py": {
        "_id": {"value": None},  # any expandable field: its id
        "subscription_facts": {
            "sub": ("subscription", ""),
            "item": ("subscription", "items.data[]"),
            "metadata": ("subscription", "metadata"),
        },
        "create_customer": {"customer": ("customer", "")},
        "credit_customer_balance": {"txn": ("customer_balance_transaction", "")},
        "customer_has_payment_method": {"customer": ("customer", "")},
        "retrieve_price": {"price": ("price", ""), "recurring": ("price", "recurring")},
        "_checkout": {"session": ("checkout.session", "")},
        "retrieve_checkout_session": {
            "session": ("checkout.session", ""),
            "metadata": ("checkout.session", "metadata"),
        },
        "create_portal_session": {"session": ("billing_portal.session", "")},
        "list_invoices": {"found": ("list", ""), "inv": ("invoice", "")},
    },
    "layers/core/mamba/services/billing_sync.py": {
        "receive": {"event": ("event", "")},
        "process": {"event": ("event", ""), "obj": ("subscription", "")},
        "_id": {"value": None},
        "_checkout_completed": {"session": ("checkout.session", "")},
        "_credit_purchase": {"session": None},  # the gateway's flat dict, not Stripe's object
        "_payment_event": {"invoice": ("invoice", "")},
        "_invoice_subscription": {
            "invoice": ("invoice", ""),
            "parent": ("invoice", "parent"),
            "details": ("invoice", "parent.subscription_details"),
        },
        "_invoice": {"invoice": ("invoice", "")},
        "dunning_check": {"done": None},
    },
    "functions/queues/stripe_events.py": {
        "record_handler": {"carried": None},  # an SQS message attribute, not Stripe's
        "_apply": {"event": ("event", "")},
    },
    # `mamba stripe smoke` checks real Stripe's answers: what it reads must exist too.
    "layers/core/mamba/adapters/stripe_smoke.py": {
        "catalogue": {
            "meter": ("billing.meter", ""),
            "product": ("product", ""),
            "flat": ("price", ""),
            "metered": ("price", ""),
            "recurring": ("price", "recurring"),
        },
        "customer": {"state": None},
        "checkout_subscription": {"state": None, "read": None},  # read: the gateway's flat dict
        "checkout_payment": {"state": None, "read": None},
        "subscription": {"state": None, "sub": ("subscription", "")},
        "portal": {"state": None},
        "meter_event": {"state": None, "params": None, "answer": ("billing.meter_event", "")},
        "balance_credit": {"state": None, "txn": ("customer_balance_transaction", "")},
    },
}


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_is_built_from_the_pinned_sdk_and_api_version() -> None:
    assert stripe_schema.pinned() == (stripe_schema.PINNED_SDK, stripe_schema.PINNED_API_VERSION)


@pytest.mark.parametrize(
    "name", sorted(stripe_schema.PRODUCT_OBJECTS - {"event"} | {"subscription_item", "payment_method"})
)
def test_an_object_with_every_required_field_passes_when_nothing_else_is_wrong(name: str) -> None:
    body = stripe_schema.example(stripe_schema.object_class(name))

    assert body["object"] == name
    assert stripe_schema.problems(body) == []


def test_a_current_shape_event_passes_and_its_object_is_checked_too() -> None:
    invoice = stripe_schema.example(stripe_schema.object_class("invoice"))
    event = stripe_schema.example(stripe_schema.object_class("event"))
    event.update(api_version="2026-10-28.endive", type="invoice.paid", data={"object": invoice})
    assert stripe_schema.problems(event) == []

    del invoice["attempt_count"]
    event["api_version"] = "2017-08-15"

    assert stripe_schema.problems(event) == [
        "event.api_version: '2017-08-15', not '2026-10-28.endive'",
        "event.data.object.attempt_count: missing (required: int)",
    ]


def test_an_old_shape_subscription_is_named_field_by_field() -> None:
    # Given a subscription as localstripe answers: plan on the item, the period on top
    sub = stripe_schema.example(stripe_schema.object_class("subscription"))
    item = stripe_schema.example(stripe_schema.object_class("subscription_item"))
    del item["price"], item["current_period_end"]
    sub.update(current_period_end=1767225600, status="overdue", billing_cycle_anchor=None)
    sub["items"]["data"] = [item]

    found = stripe_schema.problems(sub)

    assert "subscription.billing_cycle_anchor: null (required: int)" in found
    assert "subscription.status: 'overdue' is not one of" in " ".join(found)
    assert "subscription.items.data[0].current_period_end: missing (required: int)" in found
    assert "subscription.items.data[0].price: missing (required: Price)" in found
    assert "subscription.current_period_end: not a field of Subscription in 2026-10-28.endive" in found


def test_types_expandable_fields_metadata_and_removed_invoice_fields_are_checked() -> None:
    invoice = stripe_schema.example(stripe_schema.object_class("invoice"))
    invoice.update(
        amount_due="1500",  # a string where Stripe sends an int
        customer={"id": "cus_1"},  # an expanded customer missing its required fields
        metadata={"tenant_id": 7},
        subscription="sub_1",
        charge="ch_1",
    )

    found = stripe_schema.problems(invoice)

    assert "invoice.amount_due: '1500' is not an int" in found
    assert any(p.startswith("invoice.customer.object: missing") for p in found)
    assert "invoice.metadata.tenant_id: 7 is not a str" in found
    assert "invoice.subscription: not a field of Invoice in 2026-10-28.endive" in found
    assert "invoice.charge: not a field of Invoice in 2026-10-28.endive" in found
    invoice.update(amount_due=1500, customer="cus_1", metadata={"tenant_id": "tn_1"})
    del invoice["subscription"], invoice["charge"]
    assert stripe_schema.problems(invoice) == []


def test_a_list_is_checked_row_by_row_and_an_unknown_object_is_named() -> None:
    listed = {"object": "list", "data": [{"object": "customer", "id": "cus_1"}], "has_more": False, "total_count": 1}

    assert stripe_schema.problems(listed) == [
        "list.url: missing (required: str)",
        "list.total_count: not a field of ListObject in 2026-10-28.endive",
        "list.data[0].created: missing (required: int)",
        "list.data[0].livemode: missing (required: bool)",
    ]
    assert stripe_schema.problems({"object": "plan_v0"}) == ["plan_v0.object: 'plan_v0' is no object of the pinned API"]


def test_a_path_walks_lists_and_expandable_fields_and_names_a_missing_segment() -> None:
    assert stripe_schema.field_at("subscription", "items.data[].price.recurring.meter").name == "meter"
    assert stripe_schema.field_at("invoice", "parent.subscription_details.subscription").required
    assert stripe_schema.field_at("checkout.session", "metadata.purpose").name == "purpose"  # a free map
    with pytest.raises(KeyError, match="subscription has no field 'current_period_end'"):
        stripe_schema.field_at("subscription", "current_period_end")
    with pytest.raises(KeyError, match="invoice has no field 'subscription'"):
        stripe_schema.field_at("invoice", "subscription")


# --- what the product reads ------------------------------------------------------------------


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Reads(ast.NodeVisitor):
    """Every ``x.get("k")``, ``x["k"]``, ``_get(x, "k", ...)`` and (for a named holder)
    ``x.k`` in a file, as (function, the holder's path, the dotted fields read)."""

    def __init__(self, holders: dict[str, dict[str, tuple[str, str] | None]]) -> None:
        self.holders = holders
        self.function = ""
        self.reads: list[tuple[str, tuple[str, str] | None, str, int]] = []
        self.unknown: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    def _base(self, node: ast.AST, line: int) -> tuple[tuple[str, str] | None, str] | None:
        """The holder and the dotted path an expression reads (None: no Stripe object)."""
        if isinstance(node, ast.Name):
            table = self.holders.get(self.function, {})
            if node.id not in table:
                self.unknown.append(f"{self.function}:{line}: {node.id}")
                return None
            holder = table[node.id]
            return holder, holder[1] if holder else ""
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):  # x.get("k") or {}
            return self._base(node.values[0], line)
        key = self._key(node)
        if key is not None:
            inner = self._base(key[0], line)
            if inner is not None:
                return inner[0], ".".join(p for p in (inner[1], key[1]) if p)
        return None

    @staticmethod
    def _key(node: ast.AST) -> tuple[ast.AST, str] | None:
        """(receiver, field) of ``x.get("k")`` or ``x["k"]``."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if node.args and _literal(node.args[0]) is not None:
                return node.func.value, str(_literal(node.args[0]))
        if isinstance(node, ast.Subscript) and _literal(node.slice) is not None:
            return node.value, str(_literal(node.slice))
        return None

    def _record(self, receiver: ast.AST, names: list[str], line: int) -> None:
        base = self._base(receiver, line)
        if base is not None and base[0] is not None:
            self.reads.append((self.function, base[0], ".".join(p for p in (base[1], *names) if p), line))

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "_get" and node.args:
            names = [_literal(a) for a in node.args[1:]]
            if all(names):
                self._record(node.args[0], [str(n) for n in names], node.lineno)
        key = self._key(node)
        if key is not None:
            self._record(key[0], [key[1]], node.lineno)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        key = self._key(node)
        if key is not None and isinstance(node.ctx, ast.Load):
            self._record(key[0], [key[1]], node.lineno)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        table = self.holders.get(self.function, {})
        if isinstance(node.value, ast.Name) and table.get(node.value.id) and node.attr != "get":
            holder = table[node.value.id]
            assert holder is not None
            self.reads.append((self.function, holder, ".".join(p for p in (holder[1], node.attr) if p), node.lineno))
        self.generic_visit(node)


def product_reads() -> tuple[list[str], list[str]]:
    """(``file:line resource.path`` of every read, the reads through unclassified variables)."""
    reads: list[str] = []
    unknown: list[str] = []
    for relative, holders in HOLDERS.items():
        visitor = _Reads(holders)
        visitor.visit(ast.parse((ROOT / relative).read_text()))
        reads += [f"{relative}:{line} {holder[0]}.{path}" for _, holder, path, line in visitor.reads if holder]
        unknown += [f"{relative}:{where}" for where in visitor.unknown]
    return reads, unknown


def _missing(read: str) -> str | None:
    """Why ``file:line resource.path`` is not in the schema (None: it is)."""
    dotted = read.split(" ", 1)[1]
    # The longest object name first: "checkout.session.url" is the session's url.
    resource = max((n for n in stripe_schema.OBJECT_CLASSES if dotted.startswith(n + ".")), key=len)
    path = dotted[len(resource) + 1 :]
    try:
        stripe_schema.field_at(resource, path)
    except KeyError as exc:
        return str(exc.args[0])
    return None


def test_every_field_the_product_reads_from_stripe_is_in_the_pinned_api() -> None:
    # Given every read of a Stripe object in the adapter and the webhook processing
    reads, unknown = product_reads()
    assert not unknown, f"reads through variables not classified in HOLDERS: {unknown}"
    assert len(reads) > 40, reads  # the walk found the product's reads

    # Then each field exists in the pinned API version (no removed shape is depended on)
    missing = [f"{read}: {why}" for read in reads for why in [_missing(read)] if why]
    assert not missing, "the product reads fields the pinned API does not have:\n" + "\n".join(missing)


def test_the_reads_include_the_current_shape_paths() -> None:
    reads = {read.split(" ", 1)[1] for read in product_reads()[0]}

    assert {
        "subscription.items.data",
        "subscription.items.data[].price",
        "subscription.items.data[].current_period_end",
        "invoice.parent",
        "invoice.parent.subscription_details",
        "invoice.parent.subscription_details.subscription",
        "event.data.object",
    } <= reads
