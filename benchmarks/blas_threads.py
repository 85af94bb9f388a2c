"""Matrix products on one and two OpenBLAS threads, by size: where threads pay here.

    python benchmarks/blas_threads.py      (without OPENBLAS_NUM_THREADS=1 set)

Mean time per product over repeats (a thread that waits for a busy core shows in the
mean, not the median), one and two threads alternating. kernels/blas_threads.py's
SMALL_PRODUCT was chosen from this on a loaded 2-core machine.
"""
import time

import numpy as np
from threadpoolctl import threadpool_limits

rng = np.random.default_rng(0)
SHAPES = [(32, 32, 128), (32, 128, 128), (64, 128, 128), (128, 200, 10), (128, 200, 200),
          (128, 128, 128), (128, 784, 200), (200, 128, 784), (256, 256, 256),
          (512, 512, 512), (1024, 1024, 1024)]


def mean_time(product, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def main():
    for m, k, n in SHAPES:
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        repeats = max(5, min(300, int(2e8 / (m * k * n))))
        seen = {1: [], 2: []}
        for threads in (1, 2, 1, 2):
            with threadpool_limits(threads, user_api="blas"):
                seen[threads].append(mean_time(lambda: a @ b, repeats))
        one, two = min(seen[1]), min(seen[2])
        print(f"{m}x{k}x{n} ({m * k * n:.1e} multiply-adds): 1 thread {one * 1e6:9.1f} us, "
              f"2 threads {two * 1e6:9.1f} us, 2/1 {two / one:.2f}")


if __name__ == "__main__":
    main()
