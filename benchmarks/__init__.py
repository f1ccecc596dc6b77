"""The performance benchmark: latency, bytes, throughput, memory, cold start and browser redraw.

Run it with `python -m benchmarks.run [--quick]`; results go to benchmarks/results/latest.{json,md}.
"""
