"""Cross-cutting parts of the API: settings, errors, keys, limits, metrics."""
