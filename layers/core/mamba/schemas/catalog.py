"""Response models of the catalog a tenant reads: blueprints, public plans, locations, usage.

The variable rules are given twice: ``rules`` as stored (Laravel-style text) and
``rule_list`` parsed, one ``{name, args}`` per rule, so a browser can validate a value by
the same rules the API enforces (``mamba.domain.rules``) without parsing the text itself.
"""

from typing import Literal

from pydantic import Field

from mamba.schemas.common import Schema

RuleName = Literal[
    "required", "nullable", "sometimes", "present", "filled", "string", "integer", "numeric", "boolean",
    "accepted", "declined", "alpha", "alpha_num", "alpha_dash", "ascii", "lowercase", "uppercase", "url",
    "active_url", "email", "ip", "ipv4", "ipv6", "uuid", "json", "timezone", "hex_color", "mac_address",
    "min", "max", "size", "between", "gt", "gte", "lt", "lte", "digits", "digits_between", "min_digits",
    "max_digits", "in", "not_in", "starts_with", "ends_with", "doesnt_start_with", "doesnt_end_with",
    "regex", "not_regex", "bail",
]  # fmt: skip


class RuleOut(Schema):
    """One parsed rule. ``min``/``max``/``size``/``between``/``gt``/``gte``/``lt``/``lte`` compare
    the number when ``integer`` or ``numeric`` is among the rules, else the length in
    characters; an empty value passes every rule unless ``required``. ``regex``/``not_regex``
    carry the PHP pattern with its delimiters and flags (``/^[a-z]+$/i``)."""

    name: RuleName
    args: list[str] = Field(examples=[["1", "32"]])


class CatalogVariableOut(Schema):
    name: str
    description: str
    env_variable: str = Field(description="The key to use in a create or environment body's `environment`")
    default_value: str
    user_viewable: bool
    user_editable: bool = Field(description="False: shown, but the API refuses a different value")
    required: bool
    field_type: str
    rules: str = Field(examples=["required|string|max:20"])
    rule_list: list[RuleOut]


class CatalogBlueprintOut(Schema):
    id: str
    name: str
    description: str
    author: str
    features: list[str]
    docker_images: dict[str, str] = Field(description="Label → image; a create may choose one as docker_image")
    default_docker_image: str
    variables: list[CatalogVariableOut]


class CatalogBlueprintList(Schema):
    items: list[CatalogBlueprintOut]
    next_cursor: str | None = None


class PublicQuotasOut(Schema):
    """-1 means unlimited."""

    servers: int
    memory_mb: int
    disk_mb: int
    backup_bytes: int
    backups_per_server: int


class PublicPlanOut(Schema):
    id: str
    name: str
    free: bool
    amount_cents: int = Field(description="The flat fee per interval in the currency's minor unit")
    currency: str = Field(examples=["eur"])
    interval: Literal["month", "year"]
    metered: list[Literal["ram_gb_hours", "backup_gb_hours"]] = Field(description="Usage billed on top of the fee")
    quotas: PublicQuotasOut


class PublicPlanList(Schema):
    items: list[PublicPlanOut]
    billing_enabled: bool = Field(description="False: plans are shown, but Checkout answers 503 BILLING_DISABLED")


class LocationOut(Schema):
    id: str = Field(examples=["fra"], description="Pass as `location` when creating a server")
    available: bool = Field(description="Some node there has room for a server of the asked size now")


class LocationList(Schema):
    items: list[LocationOut]


class QuotaUseOut(Schema):
    used: int
    limit: int = Field(description="-1 means unlimited")
    unlimited: bool


class QuotaLimitOut(Schema):
    limit: int
    unlimited: bool


class TenantUsageOut(Schema):
    plan_id: str
    servers: QuotaUseOut
    memory_mb: QuotaUseOut
    disk_mb: QuotaUseOut
    backup_bytes: QuotaUseOut
    backups_per_server: QuotaLimitOut
