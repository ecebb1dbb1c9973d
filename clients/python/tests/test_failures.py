"""Gets never raise: a slow or absent service answers the default (or the last known value), logged."""

from __future__ import annotations

import asyncio
import time
import unittest

from tests.support import FakeClock, StubService, closed_port_url, flag_answer
from vexil_client import AsyncFeatureFlagClient, FeatureFlagClient, VexilClientError


class Timeout(unittest.TestCase):
    def setUp(self) -> None:
        # Answers after 10 s (or when the test ends).
        self.stub = StubService(flag_answer(True), delay=10)
        self.addCleanup(self.stub.stop)

    def test_the_default_5_s_timeout_answers_the_default_before_a_10_s_server_answers(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url)
        started = time.monotonic()
        with self.assertLogs("vexil_client", "WARNING") as logs:
            value = client.get_flag_boolean("slow", "A1", False)
        elapsed = time.monotonic() - started
        print(f"\nsync get against a 10 s server, default timeout: default answered after {elapsed:.2f} s")
        self.assertIs(value, False)
        self.assertFalse(self.stub.answered.is_set(), "the get waited for the server's answer")
        self.assertEqual(client.last_error.code, "TIMEOUT")
        self.assertEqual(len(logs.records), 1)
        self.assertIn("no answer within 5 s", logs.output[0])

    def test_the_async_client_answers_the_default_within_its_timeout_without_blocking_the_loop(self) -> None:
        async def run() -> tuple[str, int]:
            client = AsyncFeatureFlagClient("p", self.stub.url, timeout=0.5)
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            task = asyncio.create_task(ticker())
            try:
                return await client.get_flag_string("slow", "A1", "fallback"), ticks
            finally:
                task.cancel()
                await client.close()

        started = time.monotonic()
        with self.assertLogs("vexil_client", "WARNING"):
            value, ticks = asyncio.run(run())
        print(f"\nasync get, timeout 0.5 s: default after {time.monotonic() - started:.2f} s, loop ticked {ticks} times meanwhile")
        self.assertEqual(value, "fallback")
        self.assertFalse(self.stub.answered.is_set())
        self.assertGreater(ticks, 0, "the event loop was blocked while the get waited")


class ServiceDown(unittest.TestCase):
    def test_a_service_that_cannot_be_reached_answers_the_default_and_logs_why(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=closed_port_url())
        with self.assertLogs("vexil_client", "WARNING") as logs:
            self.assertIs(client.get_flag_boolean("f", "A1", True), True)
            self.assertEqual(client.get_flag_string("f", "A1", "openai"), "openai")
            self.assertEqual(client.get_flag_number("f", "A1", 7), 7)
            self.assertEqual(client.get_flag_json("f", "A1", {"a": 1}), {"a": 1})
        self.assertIsInstance(client.last_error, VexilClientError)
        self.assertEqual(client.last_error.code, "UNAVAILABLE")
        self.assertIn("the service cannot be reached", logs.output[0])
        self.assertEqual(len(logs.output[0].splitlines()), 1)

    def test_the_async_client_answers_the_default_too(self) -> None:
        async def run() -> bool:
            client = AsyncFeatureFlagClient("p", closed_port_url())
            try:
                return await client.get_flag_boolean("f", "A1", True)
            finally:
                await client.close()

        with self.assertLogs("vexil_client", "WARNING"):
            self.assertIs(asyncio.run(run()), True)

    def test_the_last_known_value_answers_while_the_service_is_down(self) -> None:
        stub = StubService(flag_answer("claude"))
        clock = FakeClock()
        client = FeatureFlagClient(project_name="p", base_url=stub.url, clock=clock)
        self.assertEqual(client.get_flag_string("f", "A1", "openai"), "claude")
        stub.stop()
        clock.now += 301  # expired: asked again, and the service is gone
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertEqual(client.get_flag_string("f", "A1", "openai"), "claude")
        self.assertEqual(client.last_error.code, "UNAVAILABLE")

    def test_a_server_error_answers_the_last_known_value_and_a_404_the_default(self) -> None:
        status = {"code": 200}

        def answer(query: dict[str, str]) -> tuple[int, object]:
            if status["code"] == 200:
                return flag_answer(True)(query)
            return status["code"], {"error": "x", "status": status["code"], "message": "went wrong"}

        stub = StubService(answer)
        self.addCleanup(stub.stop)
        clock = FakeClock()
        client = FeatureFlagClient(project_name="p", base_url=stub.url, clock=clock)
        self.assertIs(client.get_flag_boolean("f", "A1", False), True)
        status["code"] = 503
        clock.now += 301
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertIs(client.get_flag_boolean("f", "A1", False), True)
        self.assertEqual((client.last_error.code, client.last_error.status), ("HTTP_ERROR", 503))
        status["code"] = 404
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertIs(client.get_flag_boolean("f", "A1", False), False)
        self.assertEqual(client.last_error.code, "FLAG_NOT_FOUND")

    def test_an_answer_of_the_wrong_type_is_not_used(self) -> None:
        stub = StubService(flag_answer("yes"))
        self.addCleanup(stub.stop)
        client = FeatureFlagClient(project_name="p", base_url=stub.url)
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertIs(client.get_flag_boolean("f", "A1", False), False)
        self.assertEqual(client.last_error.code, "PARSE_ERROR")


class BadArguments(unittest.TestCase):
    def test_bad_instance_ids_answer_the_default_without_a_request(self) -> None:
        stub = StubService(flag_answer(True))
        self.addCleanup(stub.stop)
        client = FeatureFlagClient(project_name="p", base_url=stub.url)
        with self.assertLogs("vexil_client", "WARNING"):
            self.assertIs(client.get_flag_boolean("f", "", False), False)
            self.assertIs(client.get_flag_boolean("f", "x" * 1001, False), False)
            self.assertIs(client.get_flag_boolean("f", None, False), False)  # type: ignore[arg-type]
            self.assertIs(client.get_flag_boolean(None, "A1", False), False)  # type: ignore[arg-type]
        self.assertEqual(client.last_error.code, "INVALID_ARGUMENT")
        self.assertEqual(stub.requests, [])

    def test_a_number_id_is_asked_as_its_decimal_text(self) -> None:
        stub = StubService(flag_answer(True))
        self.addCleanup(stub.stop)
        client = FeatureFlagClient(project_name="p", base_url=stub.url)
        self.assertIs(client.get_flag_boolean("f", 123456, False), True)
        self.assertEqual(stub.requests[0]["instance_id"], "123456")

    def test_the_constructor_needs_a_service_and_a_valid_project(self) -> None:
        import os
        from unittest import mock

        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(ValueError, "VEXIL_URL"):
                FeatureFlagClient(project_name="p")
        with mock.patch.dict(os.environ, {"VEXIL_URL": "http://vexil.example:8080/"}):
            self.assertEqual(FeatureFlagClient(project_name="p").base_url, "http://vexil.example:8080")
        with self.assertRaisesRegex(ValueError, "project_name"):
            FeatureFlagClient(project_name="bad#name", base_url="http://x")


if __name__ == "__main__":
    unittest.main()
