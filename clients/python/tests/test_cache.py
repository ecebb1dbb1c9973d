"""The runbook client's cache: 100 values for 300 s by default, least recently used out first."""

from __future__ import annotations

import asyncio
import unittest

from tests.support import FakeClock, StubService, flag_answer
from vexil_client import AsyncFeatureFlagClient, FeatureFlagClient
from vexil_client.ttl_cache import TtlCache


class TtlCacheBehaviour(unittest.TestCase):
    def test_an_entry_is_fresh_until_its_ttl_then_stale_but_kept(self) -> None:
        clock = FakeClock()
        cache = TtlCache(10, 300, clock)
        cache.set("k", True)
        clock.now += 299.9
        self.assertEqual(cache.get("k"), (True, True))
        clock.now += 0.1
        self.assertEqual(cache.get("k"), (True, False))

    def test_the_least_recently_used_entry_goes_first(self) -> None:
        cache = TtlCache(2, 300, FakeClock())
        cache.set("a", 1)
        cache.set("b", 2)
        cache.get("a")  # a is now the most recently used
        cache.set("c", 3)
        self.assertIsNone(cache.get("b"))
        self.assertEqual(cache.get("a"), (1, True))
        self.assertEqual(len(cache), 2)

    def test_size_zero_turns_the_cache_off(self) -> None:
        cache = TtlCache(0, 300, FakeClock())
        cache.set("a", 1)
        self.assertIsNone(cache.get("a"))


class ClientCache(unittest.TestCase):
    def setUp(self) -> None:
        self.value = "first"
        self.stub = StubService(lambda query: flag_answer(self.value)(query))
        self.addCleanup(self.stub.stop)

    def test_defaults_are_the_runbook_clients(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url)
        self.assertEqual(client.timeout, 5.0)
        self.assertEqual(client._remote.cache.max_entries, 100)
        self.assertEqual(client._remote.cache.ttl, 300)

    def test_a_value_is_served_from_memory_for_the_ttl_then_asked_again(self) -> None:
        clock = FakeClock()
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url, clock=clock)
        self.assertEqual(client.get_flag_string("f", "A1", "default"), "first")
        self.value = "second"
        clock.now += 299
        self.assertEqual(client.get_flag_string("f", "A1", "default"), "first")
        self.assertEqual(len(self.stub.requests), 1)
        clock.now += 1
        self.assertEqual(client.get_flag_string("f", "A1", "default"), "second")
        self.assertEqual(len(self.stub.requests), 2)

    def test_the_cache_holds_at_most_cache_size_values(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url, cache_size=2, clock=FakeClock())
        for instance_id in ("A1", "A2", "A3"):
            client.get_flag_string("f", instance_id, "d")
        self.assertEqual(client.cache_size, 2)
        client.get_flag_string("f", "A3", "d")  # still held
        self.assertEqual(len(self.stub.requests), 3)
        client.get_flag_string("f", "A1", "d")  # evicted: asked again
        self.assertEqual(len(self.stub.requests), 4)

    def test_the_default_size_is_100_values(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url, clock=FakeClock())
        for n in range(150):
            client.get_flag_string("f", f"id-{n}", "d")
        self.assertEqual(client.cache_size, 100)

    def test_flag_type_name_and_id_each_make_their_own_entry(self) -> None:
        client = FeatureFlagClient(project_name="p", base_url=self.stub.url, clock=FakeClock())
        client.get_flag_string("f", "A1", "d")
        client.get_flag_string("g", "A1", "d")
        client.get_flag_string("f", "A2", "d")
        client.get_flag_string("f", "A1", "d")
        self.assertEqual(len(self.stub.requests), 3)
        self.assertEqual([q["flag_name"] for q in self.stub.requests], ["f", "g", "f"])

    def test_the_async_client_caches_alike_and_shares_identical_requests_in_flight(self) -> None:
        clock = FakeClock()

        async def run() -> list[str]:
            client = AsyncFeatureFlagClient("p", self.stub.url, clock=clock)
            try:
                values = await asyncio.gather(*(client.get_flag_string("f", "A1", "d") for _ in range(5)))
                self.value = "second"
                values.append(await client.get_flag_string("f", "A1", "d"))
                clock.now += 300
                values.append(await client.get_flag_string("f", "A1", "d"))
                return values
            finally:
                await client.close()

        values = asyncio.run(run())
        self.assertEqual(values, ["first"] * 6 + ["second"])
        self.assertEqual(len(self.stub.requests), 2)


if __name__ == "__main__":
    unittest.main()
