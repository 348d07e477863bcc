"""Demo content: accounts and an assessed portfolio for ``make run``, and ``generate``, a
synthetic RTO of any size for trying the app at scale and for the benchmarks.
"""
