#####
# File: app_local.py
#####
# Beyond the runbook client: local evaluation, kept current by the change stream.
# Prints dark_mode for a user now and whenever the flag changes, until Ctrl-C.
import os
import sys
import time

from vexil_client import FeatureFlagClient

# Reports of local evaluations need a read token for the project (VEXIL_TOKEN); the demo
# project answers without one, so reporting is on only when a token is given.
token = os.environ.get("VEXIL_TOKEN")
ff_client = FeatureFlagClient(project_name="demo", token=token, local_evaluation=True, report_evaluations=bool(token))
if not ff_client.ready():
    print(f"flags not loaded: {ff_client.last_error}", file=sys.stderr)

user = sys.argv[1] if len(sys.argv) > 1 else "A123456"
print(f"dark_mode for {user}: {ff_client.get_flag_boolean('dark_mode', user, False)} (version {ff_client.version})", flush=True)
ff_client.on_change(
    lambda names: print(f"changed {', '.join(names)}: dark_mode for {user} is now {ff_client.get_flag_boolean('dark_mode', user, False)}", flush=True)
)
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    ff_client.close()
