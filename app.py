"""The Chalice app object. Registration only; logic lives in functions/ and layers/core/mamba."""

import importlib

from chalice import Chalice

from functions.api import docs, health, operations
from functions.tasks import TASKS
from mamba import bootstrap, web

# Refuse to start on a missing or weak secret: a failed init is better than serving.
bootstrap.settings()

app = Chalice(app_name="mamba")
app.api.binary_types = ["application/octet-stream", "application/gzip"]
app.register_middleware(web.http_middleware, "http")

for blueprint in (health.bp, docs.bp, operations.bp):
    app.register_blueprint(blueprint)

for function_name, target in TASKS.items():
    module_name, _, attr = target.partition(":")
    app.lambda_function(name=function_name)(getattr(importlib.import_module(module_name), attr))
