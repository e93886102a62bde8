"""Local stand-in for the platform APIs; never imported by production code."""
