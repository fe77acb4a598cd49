"""Ray changes the process it starts in (it sets OMP_NUM_THREADS and other variables in the driver's
environment, which every later subprocess inherits, and torch's thread count with it): each module here
gives the rest of the session back the environment and thread count it found, so later tests that compare
a server's pixels with this process's stay byte-exact."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module", autouse=True)
def _restore_process_state():
    import torch

    environment, threads = dict(os.environ), torch.get_num_threads()
    yield
    for key in set(os.environ) - set(environment):
        os.environ.pop(key, None)
    os.environ.update(environment)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
