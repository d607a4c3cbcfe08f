"""The benchmark suite: ``python -m benchmarks --help`` lists its cases (docs/performance.md)."""
