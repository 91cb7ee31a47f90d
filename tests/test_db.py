"""The SQLite write lock hands over in arrival order."""

import threading
import time

from cartwheel.db import FairLock


def test_fair_lock_serves_waiters_in_arrival_order() -> None:
    lock = FairLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for i in range(5):

        def take(i: int = i) -> None:
            with lock:
                order.append(i)

        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # let thread i queue before thread i + 1
    lock.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == [0, 1, 2, 3, 4]


def test_a_releasing_thread_cannot_jump_the_queue() -> None:
    lock = FairLock()
    lock.acquire()
    got: list[str] = []
    waiter = threading.Thread(target=lambda: (lock.acquire(), got.append("waiter"), lock.release()))
    waiter.start()
    time.sleep(0.05)
    lock.release()
    with lock:  # re-acquiring at once must wait for the waiter's turn
        got.append("releaser")
    waiter.join(timeout=5)
    assert got == ["waiter", "releaser"]
