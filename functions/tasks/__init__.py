"""Step Functions task handlers. ``TASKS`` is the one list of task Lambdas: app.py registers
them with Chalice, infra and the local stack derive ASL placeholders and functions from it.

A placeholder is the function name in CamelCase plus ``Arn``: ``task_operations`` is
``${TaskOperationsArn}`` in every ASL file.
"""

TASKS: dict[str, str] = {
    "task_backups": "functions.tasks.backups:handler",
    "task_billing": "functions.tasks.billing:handler",
    "task_operations": "functions.tasks.operations:handler",
    "task_platform_check": "functions.tasks.platform:check",
    "task_provision": "functions.tasks.provision:handler",
    "task_schedules": "functions.tasks.schedules:handler",
    "task_servers": "functions.tasks.servers:handler",
}


def placeholder(function_name: str) -> str:
    return "".join(part.capitalize() for part in function_name.split("_")) + "Arn"
