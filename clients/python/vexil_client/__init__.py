"""Vexil feature flags for Python services.

``FeatureFlagClient`` and ``AsyncFeatureFlagClient`` are the runbook system's client
classes (``iris_feature_flag_client``) with the same calls and defaults, so a service
switches by changing its import::

    from vexil_client import FeatureFlagClient

    ff_client = FeatureFlagClient(project_name="csr-assistant")  # the service: VEXIL_URL
    if ff_client.get_flag_boolean("multi_step_api_router", user_id, False):
        ...
"""

from .async_feature_flag_client import AsyncFeatureFlagClient
from .client_base import Target
from .errors import VexilClientError
from .evaluation_reporter import ReportStats
from .feature_flag_client import FeatureFlagClient
from .service import SERVICE_URL_VARIABLE

__version__ = "0.1.0"

__all__ = [
    "SERVICE_URL_VARIABLE",
    "AsyncFeatureFlagClient",
    "FeatureFlagClient",
    "ReportStats",
    "Target",
    "VexilClientError",
    "__version__",
]
