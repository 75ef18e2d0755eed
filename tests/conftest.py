"""Test-session settings shared by every test module."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread_per_worker():
    """pytest-xdist runs one worker per core; a multi-threaded BLAS in each would oversubscribe."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
