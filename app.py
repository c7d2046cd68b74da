"""The Chalice app object. Registration only; logic lives in functions/ and layers/core/mamba."""

from chalice import Chalice

from functions.api import docs, health, operations
from functions.tasks import operations as operation_tasks
from functions.tasks import platform as platform_tasks
from mamba import bootstrap, web

# Refuse to start on a missing or weak secret: a failed init is better than serving.
bootstrap.settings()

app = Chalice(app_name="mamba")
app.api.binary_types = ["application/octet-stream", "application/gzip"]
app.register_middleware(web.http_middleware, "http")

for blueprint in (health.bp, docs.bp, operations.bp):
    app.register_blueprint(blueprint)

app.lambda_function(name="task_operations")(operation_tasks.handler)
app.lambda_function(name="task_platform_check")(platform_tasks.check)
