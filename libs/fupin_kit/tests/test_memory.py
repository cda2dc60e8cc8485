import platform

from fupin_kit import memory


def test_release_memory_finds_glibc_malloc_trim_and_runs() -> None:
    if platform.libc_ver()[0] == "glibc":
        assert memory._MALLOC_TRIM is not None
    blocks = [bytes(1024) for _ in range(10_000)]  # freed small chunks for the trim to give back
    del blocks
    memory.release_memory()
