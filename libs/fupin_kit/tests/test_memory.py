import platform

from fupin_kit import memory


def test_release_memory_finds_glibc_malloc_trim_and_runs() -> None:
    if platform.libc_ver()[0] == "glibc":
        assert memory._MALLOC_TRIM is not None
    blocks = [bytes(1024) for _ in range(10_000)]  # freed small chunks for the trim to give back
    del blocks
    memory.release_memory()


def test_tune_collector_freezes_the_start_up_heap_and_raises_the_young_threshold_once() -> None:
    import gc

    memory.tune_collector()
    assert gc.get_threshold()[0] == memory.YOUNG_THRESHOLD
    frozen = gc.get_freeze_count()
    assert frozen > 0  # the modules, classes and functions imported so far
    later = [[i] for i in range(1000)]  # objects made after start-up are not frozen by a second call
    memory.tune_collector()
    assert gc.get_freeze_count() == frozen
    del later
