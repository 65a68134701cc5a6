"""asyncio locks and semaphores made once per event loop, for the layers that keep them (page_cache.py, queues.py).

An asyncio primitive belongs to the loop that first waits on it and fails in another one. A server runs one
loop; the tests run one per test, and `datasette.client` in a synchronous context (`datasette --get`) one per
call. So a layer's primitives are made on first use in each running loop, and forgotten with it.
"""

import asyncio
import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """`factory()` made once in each running event loop: `get()` gives the current loop's."""

    def __init__(self, factory: Callable[[], T]):
        self.factory = factory
        self.made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        made = self.made.get(loop)
        if made is None:
            made = self.made[loop] = self.factory()
        return made
