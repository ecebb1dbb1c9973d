"""Local evaluation against a real `vexil serve`: the service's answers, changes within 1 s, reports in its log."""

from __future__ import annotations

import asyncio
import time
import unittest

from tests.support import (
    SERVICE_URL,
    add_flag,
    add_revision,
    evaluation_log,
    needs_service,
    new_project,
    read_token,
    seed_runbook_project,
    wait_until,
)
from vexil_client import AsyncFeatureFlagClient, FeatureFlagClient


@needs_service
class LocalEvaluation(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.project, cls.token = seed_runbook_project("py-local")

    def local_client(self, **options: object) -> FeatureFlagClient:
        client = FeatureFlagClient(
            project_name=self.project, base_url=SERVICE_URL, token=self.token, local_evaluation=True, **options  # type: ignore[arg-type]
        )
        self.addCleanup(client.close)
        return client

    def test_it_gets_the_snapshot_and_answers_what_the_service_answers(self) -> None:
        local = self.local_client(report_evaluations=False)
        remote = FeatureFlagClient(project_name=self.project, base_url=SERVICE_URL, token=self.token, cache_size=0)
        self.assertTrue(local.ready())
        self.assertEqual(
            local.flag_names(), sorted(["multi_step_api_router", "llm_provider", "discount.rate", "checkout-layout", "no_value"])
        )
        ids = [f"user-{n}" for n in range(40)] + ["A12345", "A123456", "vip-1"]
        getters = [
            ("get_flag_boolean", "multi_step_api_router", False),
            ("get_flag_string", "llm_provider", "d"),
            ("get_flag_number", "discount.rate", -1),
            ("get_flag_json", "checkout-layout", {}),
            ("get_flag_string", "no_value", "mine"),
        ]
        for getter, name, default in getters:
            for instance_id in ids:
                with self.subTest(flag=name, id=instance_id):
                    self.assertEqual(
                        getattr(local, getter)(name, instance_id, default),
                        getattr(remote, getter)(name, instance_id, default),
                    )
        self.assertIsNone(remote.last_error)

    def test_a_context_reaches_the_rules(self) -> None:
        local = self.local_client(report_evaluations=False)
        self.assertTrue(local.ready())
        self.assertEqual(local.get_flag_number("discount.rate", {"targetingKey": "u1", "plan": "pro"}, 0), 0.2)
        self.assertEqual(local.get_flag_number("discount.rate", {"targetingKey": "vip-1", "plan": "pro"}, 0), 25)
        # Without a targeting key the rule still answers; the rollout cannot.
        self.assertEqual(local.get_flag_number("discount.rate", {"plan": "pro"}, 0), 0.2)
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertEqual(local.get_flag_number("discount.rate", {"plan": "free"}, -1), -1)
        self.assertEqual(local.last_error.code, "TARGETING_KEY_MISSING")

    def test_unknown_and_mistyped_flags_answer_the_default_saying_why(self) -> None:
        local = self.local_client(report_evaluations=False)
        self.assertTrue(local.ready())
        with self.assertLogs("vexil_client", "WARNING") as logs:
            self.assertIs(local.get_flag_boolean("llm_provider", "A1", False), False)
            self.assertEqual(local.get_flag_string("nope", "A1", "d"), "d")
        self.assertIn("read it with get_flag_string", logs.output[0])
        self.assertEqual(local.last_error.code, "FLAG_NOT_FOUND")

    def test_a_change_reaches_a_local_client_within_1_s(self) -> None:
        project = new_project("py-propagation")
        add_flag(project, "feature", "live_switch", {"ControlValue": False, "Treatments": []})
        token = read_token(project)
        client = FeatureFlagClient(project_name=project, base_url=SERVICE_URL, token=token, local_evaluation=True)
        self.addCleanup(client.close)
        self.assertTrue(client.ready())
        self.assertIs(client.get_flag_boolean("live_switch", "A1", True), False)
        delays = []
        for value in (True, False, True):
            written = time.monotonic()
            add_revision(project, "feature", "live_switch", {"ControlValue": value, "Treatments": []})
            changed = wait_until(lambda v=value: client.get_flag_boolean("live_switch", "A1", not v) is v, timeout=1.0)
            delays.append(time.monotonic() - written)
            self.assertTrue(changed, f"the change to {value} did not reach the client within 1 s")
        print(f"\nchange propagation to a local-evaluation client: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")

    def test_the_async_client_evaluates_locally_too(self) -> None:
        async def run() -> tuple[bool, bool, str]:
            client = AsyncFeatureFlagClient(
                self.project, SERVICE_URL, token=self.token, local_evaluation=True, report_evaluations=False
            )
            try:
                ready = await client.ready()
                return ready, await client.get_flag_boolean("multi_step_api_router", "A12345", False), await client.get_flag_string(
                    "llm_provider", {"targetingKey": "A123456"}, "d"
                )
            finally:
                await client.close()

        self.assertEqual(asyncio.run(run()), (True, True, "claude"))

    def test_evaluations_are_reported_to_the_evaluation_log(self) -> None:
        project, token = seed_runbook_project("py-reports")
        client = FeatureFlagClient(
            project_name=project,
            base_url=SERVICE_URL,
            token=token,
            local_evaluation=True,
            report_evaluations={"flush_interval": 60},
        )
        self.assertTrue(client.ready())
        ids = [f"reported-{n}" for n in range(25)]
        answers = {i: client.get_flag_boolean("multi_step_api_router", i, False) for i in ids}
        self.assertEqual(client.report_stats.queued, 25)
        client.close()  # sends what is queued
        self.assertEqual((client.report_stats.sent, client.report_stats.failed), (25, 0))
        found: list[dict[str, object]] = []

        def logged() -> bool:
            found[:] = [e for e in evaluation_log(project, "feature", "multi_step_api_router") if e["source"] == "reported"]
            return len(found) >= 25

        self.assertTrue(wait_until(logged, timeout=10, interval=0.1), f"{len(found)} of 25 reported evaluations logged")
        self.assertEqual({e["instanceId"]: e["value"] for e in found}, answers)
        self.assertTrue(all(e["cacheHit"] is True for e in found))

    def test_a_project_that_does_not_exist_is_said_at_once(self) -> None:
        # The client is made inside assertLogs: its thread may hear the service's 404 at once.
        with self.assertLogs("vexil_client", "WARNING"):
            started = time.monotonic()
            client = FeatureFlagClient(
                project_name=new_project("py-missing"), base_url=SERVICE_URL, local_evaluation=True, report_evaluations=False
            )
            self.addCleanup(client.close)
            self.assertFalse(client.ready(timeout=10))
        print(f"\nready() for a missing project answered False after {time.monotonic() - started:.2f} s")
        self.assertEqual(client.last_error.code, "PROJECT_NOT_FOUND")
        self.assertIn("does not exist", client.last_error.message)


if __name__ == "__main__":
    unittest.main()
