#####
# File: app.py
#####
# Import client object from params.py to call get flag functions
import sys

from params import FeatureFlags, ff_client


def simple_function(user_id: str) -> None:
    # TODO: JIRA link to follow-up feature flag removal
    # Reading a feature flag of boolean type
    flag_name = FeatureFlags.NEW_CHECKOUT_FEATURE_FLAG.value
    instance_id = user_id  # user_id from request which is stored in context variable
    default_value = False
    # check if new_checkout is enabled for user_id
    flag_value = ff_client.get_flag_boolean(flag_name, instance_id, default_value)
    if flag_value:
        # new behavior
        print(f"{flag_name} is enabled for {instance_id}.")
    else:
        # old behavior
        print(f"{flag_name} is disabled for {instance_id}.")

    # TODO: JIRA link to follow-up feature flag removal
    # Reading a feature flag of string type
    flag_name = FeatureFlags.LLM_PROVIDER_DATA_FLAG.value
    default_value = "openai"
    str_flag_value = ff_client.get_flag_string(flag_name, instance_id, default_value)
    # custom logic to process string flag value.
    print(f"{flag_name} for {instance_id}: {str_flag_value}")


for user in sys.argv[1:] or ["qa-1", "A123456"]:
    simple_function(user)
