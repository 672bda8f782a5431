"""Freed memory handed back to the system (bzpeer.lib.memory)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bzpeer.lib.memory import _malloc_trim, resident_mb, return_freed_memory
from works import first_load

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A process that frees 200 MB of 2 KB strings while a later one stays alive: the C
# allocator keeps the freed pages resident until they are handed back.
FREED_BENEATH_A_LIVE_OBJECT = """
from bzpeer.lib.memory import return_freed_memory

def resident_mb():
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) // 1024

parsed = [bytes(2048) + bytes([k % 256]) for k in range(100_000)]
still_alive = bytes(4096)
del parsed
before = resident_mb()
handed_back = return_freed_memory()
print(before, resident_mb(), handed_back)
"""


@pytest.mark.skipif(_malloc_trim() is None, reason="the C library has no malloc_trim (not glibc)")
def test_memory_freed_beneath_a_live_object_goes_back_to_the_system():
    printed = subprocess.run(
        [sys.executable, "-c", FREED_BENEATH_A_LIVE_OBJECT],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout.split()
    before, after, handed_back = int(printed[0]), int(printed[1]), printed[2]
    assert handed_back == "True"
    assert before - after > 150, (before, after)


def test_without_the_call_nothing_is_done(monkeypatch):
    monkeypatch.setattr("bzpeer.lib.memory._malloc_trim", lambda: None)
    assert return_freed_memory() is False


@pytest.mark.django_db
def test_a_first_load_hands_back_what_its_copy_freed_before_it_links_people(monkeypatch):
    # The loader stays resident through the linking, the load's most memory-hungry step.
    calls = []
    monkeypatch.setattr(first_load, "return_freed_memory", lambda: calls.append("trim"))
    monkeypatch.setattr(first_load, "_link_tasks", lambda _heavy: calls.append("tasks") or iter(()))

    assert first_load.link_unlinked(source_label="test") == set()
    assert calls == ["trim", "tasks"]


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc (Linux)")
def test_resident_memory_grows_with_what_this_process_touches():
    before = resident_mb()
    block = bytearray(64 << 20)  # zero pages: resident only once written
    block[::4096] = b"x" * len(block[::4096])

    assert resident_mb() - before >= 48
    del block
