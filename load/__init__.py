"""The load test: `python -m load` (or `make load`); see load/__main__.py and README "Load"."""
