"""Every get of both clients against a real `vexil serve`, as the runbook client used it (/get-feature-flag)."""

from __future__ import annotations

import asyncio
import unittest

from tests.support import (
    SERVICE_URL,
    FakeClock,
    add_revision,
    needs_service,
    seed_runbook_project,
    wait_until,
)
from vexil_client import AsyncFeatureFlagClient, FeatureFlagClient


@needs_service
class SyncClientAgainstTheService(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.project, cls.token = seed_runbook_project("py-remote")

    def client(self, **options: object) -> FeatureFlagClient:
        client = FeatureFlagClient(project_name=self.project, base_url=SERVICE_URL, token=self.token, **options)  # type: ignore[arg-type]
        self.addCleanup(client.close)
        return client

    def test_get_flag_boolean_answers_overrides_and_the_rollout(self) -> None:
        client = self.client()
        self.assertIs(client.get_flag_boolean("multi_step_api_router", "A12345", False), True)
        values = [client.get_flag_boolean("multi_step_api_router", f"user-{n}", False) for n in range(60)]
        self.assertIn(True, values)
        self.assertIn(False, values)
        self.assertIsNone(client.last_error)

    def test_get_flag_string_answers_the_data_flag(self) -> None:
        client = self.client()
        self.assertEqual(client.get_flag_string("llm_provider", "A123456", "default"), "claude")

    def test_get_flag_number_and_get_flag_json_answer_the_new_types(self) -> None:
        client = self.client()
        self.assertEqual(client.get_flag_number("discount.rate", "vip-1", 0), 25)
        self.assertEqual(client.get_flag_json("checkout-layout", "A123456", {}), [1, {"columns": 3}])
        self.assertEqual(client.get_flag_json("checkout-layout", "nobody-in-particular-0", {}), {"columns": 1, "steps": ["cart", "pay"]})

    def test_a_revision_without_a_value_answers_the_callers_default(self) -> None:
        client = self.client()
        self.assertEqual(client.get_flag_string("no_value", "A1", "mine"), "mine")
        self.assertIsNone(client.last_error)

    def test_a_flag_read_as_another_type_answers_the_default_and_says_how_to_read_it(self) -> None:
        client = self.client()
        with self.assertLogs("vexil_client", "WARNING") as logs:
            self.assertIs(client.get_flag_boolean("llm_provider", "A123456", False), False)
        self.assertEqual(client.last_error.code, "TYPE_MISMATCH")
        self.assertIn("flag llm_provider is a data flag, not a feature flag: read it with get_flag_string", logs.output[0])

    def test_an_unknown_flag_answers_the_default(self) -> None:
        client = self.client()
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertEqual(client.get_flag_string("nope", "A1", "d"), "d")
        self.assertEqual((client.last_error.code, client.last_error.status), ("FLAG_NOT_FOUND", 404))

    def test_without_the_read_token_a_private_project_answers_the_default(self) -> None:
        client = FeatureFlagClient(project_name=self.project, base_url=SERVICE_URL)
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertEqual(client.get_flag_string("llm_provider", "A123456", "d"), "d")
        self.assertEqual(client.last_error.status, 401)

    def test_cached_values_last_the_ttl_then_a_change_shows(self) -> None:
        project, token = seed_runbook_project("py-ttl")
        clock = FakeClock()
        client = FeatureFlagClient(project_name=project, base_url=SERVICE_URL, token=token, clock=clock)
        self.addCleanup(client.close)
        self.assertEqual(client.get_flag_string("llm_provider", "A123456", "d"), "claude")
        add_revision(project, "data", "llm_provider", {"ControlValue": "openai", "Treatments": []})
        # The service sees its store's change within its change poll: wait for it, so what follows is this cache's doing.
        uncached = FeatureFlagClient(project_name=project, base_url=SERVICE_URL, token=token, cache_size=0)
        self.assertTrue(wait_until(lambda: uncached.get_flag_string("llm_provider", "A123456", "d") == "openai", 5, 0.02))
        clock.now += 299
        self.assertEqual(client.get_flag_string("llm_provider", "A123456", "d"), "claude")
        clock.now += 1
        self.assertEqual(client.get_flag_string("llm_provider", "A123456", "d"), "openai")


@needs_service
class AsyncClientAgainstTheService(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.project, cls.token = seed_runbook_project("py-async")

    def test_every_get_answers_as_the_sync_client_does(self) -> None:
        async def run() -> list[object]:
            client = AsyncFeatureFlagClient(self.project, SERVICE_URL, token=self.token)
            try:
                return list(
                    await asyncio.gather(
                        client.get_flag_boolean("multi_step_api_router", "A12345", False),
                        client.get_flag_string("llm_provider", "A123456", "openai"),
                        client.get_flag_number("discount.rate", "vip-1", 0),
                        client.get_flag_json("checkout-layout", "A123456", {}),
                        client.get_flag_string("no_value", "A1", "mine"),
                        client.get_flag_boolean("llm_provider", "A123456", False),
                    )
                )
            finally:
                await client.close()

        with self.assertLogs("vexil_client", "WARNING") as logs:
            values = asyncio.run(run())
        self.assertEqual(values, [True, "claude", 25, [1, {"columns": 3}], "mine", False])
        self.assertEqual(len(logs.output), 1)
        self.assertIn("TYPE_MISMATCH", logs.output[0])

    def test_the_runbook_sample_reads_its_flags(self) -> None:
        # The runbook's async sample: a client made with the project name positionally.
        async def simple_function() -> tuple[bool, str]:
            ff_client_async = AsyncFeatureFlagClient(self.project, SERVICE_URL, token=self.token)
            try:
                boolean_flag_value = await ff_client_async.get_flag_boolean("multi_step_api_router", "A12345", False)
                str_flag_value = await ff_client_async.get_flag_string("llm_provider", "A123456", "openai")
                return boolean_flag_value, str_flag_value
            finally:
                await ff_client_async.close()

        self.assertEqual(asyncio.run(simple_function()), (True, "claude"))


if __name__ == "__main__":
    unittest.main()
