"""Prefect flows. Settings here apply before Prefect is first imported."""

import os

# No telemetry from an audit tool, and room for the temporary API server to start on a busy box.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
