"""jitgrad's benchmarks: an asv suite (bench_*.py) and compare.py, on workloads.py."""
