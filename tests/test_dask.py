"""Scale-out on Dask (issue 13 item 4): a jitted gradient mapped over 100 parameter
vectors on a local cluster of two worker processes gives eager's answers, and the
workers, sharing the disk kernel cache, compile each kernel once between them."""
import glob
import os

import numpy
import pytest
from numpy.testing import assert_allclose

import jitgrad.numpy as np
from jitgrad import grad
from jitgrad.kernels import cache

distributed = pytest.importorskip(
    "dask.distributed", reason="dask[distributed] is not installed (pip install -e '.[dask]')")

pytestmark = pytest.mark.eager_only  # sets jit= itself


def test_a_jitted_gradient_maps_over_a_local_cluster(monkeypatch, tmp_path):
    # The workers inherit this environment: one cache directory, small arrays fused.
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    data = numpy.random.RandomState(0).randn(64)

    def loss(w):
        z = (w * 2.0 + data) / (1.0 + w ** 2) - 3.0 * data
        return np.sum(z * z / (1.0 + z * z))

    params = [numpy.random.RandomState(seed).randn(64) for seed in range(100)]
    gradient = grad(loss, jit=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        futures = client.map(gradient, params)
        results = client.gather(futures)
        per_worker = client.run(cache.stats)
        ran = {address for holders in client.who_has(futures).values()
               for address in holders}
    eager = grad(loss, jit=False)
    for w, result in zip(params, results):
        assert_allclose(result, eager(w), rtol=1e-12, atol=1e-14)
    kernels = glob.glob(os.path.join(str(tmp_path), "kernels", "*.nbi"))
    assert kernels, "the gradient was expected to fuse into kernels"
    assert sum(stats["compiled"] for stats in per_worker.values()) == len(kernels), per_worker
    for address in ran:  # each kernel compiled by one worker, loaded by the other
        assert sum(per_worker[address].values()) == len(kernels), per_worker
