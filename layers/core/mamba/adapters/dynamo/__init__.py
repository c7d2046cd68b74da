"""DynamoDB adapters (pynamodb). Keys are built only by the functions in ``keys``."""

# Before pynamodb imports botocore: its transport without pyOpenSSL (aws_clients.load_transport).
from mamba.adapters import aws_clients as _aws_clients  # noqa: F401
