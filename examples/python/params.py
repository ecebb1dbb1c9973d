#####
# File: params.py
#####
# The runbook client's sample, on Vexil: only the import changed.
from enum import Enum

from vexil_client import FeatureFlagClient


# Create an Enum and keep track of all the feature flags used in the application
# along with the JIRA link next to it.
class FeatureFlags(Enum):
    LLM_PROVIDER_DATA_FLAG = "llm_provider"  # JIRA link for flag removal
    NEW_CHECKOUT_FEATURE_FLAG = "new_checkout"  # JIRA link for flag removal


# Create client object once and use it across the application
# In this example, creating the client object in params.py where we configure
# application based on environments. The service's address comes from VEXIL_URL.
ff_client = FeatureFlagClient(project_name="demo")
