"""The speed benchmarks behind `make bench`: one module per figure, run as `python -m bench.<name>`.

`bench.data` builds the throw-away PostgreSQL databases the database benchmarks time; nothing in
the apps imports this package.
"""
