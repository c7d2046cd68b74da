"""SQS consumers (registered in app.py; their event source mappings are in infra/template.py)."""
