"""DynamoDB adapters (pynamodb). Keys are built only by the functions in ``keys``."""
