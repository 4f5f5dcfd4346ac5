"""sff's benchmarks: sff and its hand-written baselines, interleaved, on loopback.

Run ``python -m benchmarks`` (``--smoke`` for tiny sizes and one repetition); see
RESULTS.md for the last full run.
"""
