"""Scoring whole files: the local engine (chunks, optional worker processes) and the Ray engine.

Both drive the one scorer in `lurescan.model`; nothing here is needed to score
a single listing or to serve the API.
"""
