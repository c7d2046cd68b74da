"""pydantic request and response models: validation at the door and the OpenAPI document."""
