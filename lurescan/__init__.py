"""lurescan: score job ads for the overseas scam-compound recruitment pattern."""

__version__ = "0.1.0"
