#####
# File: app_async.py
#####
# The runbook's asynchronous sample: AsyncFeatureFlagClient, gets awaited.
import asyncio
import sys

from params import FeatureFlags

from vexil_client import AsyncFeatureFlagClient

ff_client_async = AsyncFeatureFlagClient("demo")


async def simple_function(user_id: str) -> None:
    # TODO: JIRA link to follow-up feature flag removal
    # Reading a feature flag of boolean type
    flag_name = FeatureFlags.NEW_CHECKOUT_FEATURE_FLAG.value
    instance_id = user_id  # user_id from request which is stored in context variable
    default_value = False
    # check if new_checkout is enabled for user_id
    boolean_flag_value = await ff_client_async.get_flag_boolean(flag_name, instance_id, default_value)
    if boolean_flag_value:
        print(f"{flag_name} is enabled for {instance_id}.")
    else:
        print(f"{flag_name} is disabled for {instance_id}.")

    # TODO: JIRA link to follow-up feature flag removal
    # Reading a feature flag of string type
    flag_name = FeatureFlags.LLM_PROVIDER_DATA_FLAG.value
    str_flag_value = await ff_client_async.get_flag_string(flag_name, instance_id, "openai")
    # custom logic to process string flag value.
    print(f"{flag_name} for {instance_id}: {str_flag_value}")


async def main() -> None:
    await asyncio.gather(*(simple_function(user) for user in sys.argv[1:] or ["qa-1", "A123456"]))
    await ff_client_async.close()


asyncio.run(main())
