"""The sandbox's OpenAI-compatible chat completions (/v1/chat/completions): deterministic,
schema-valid answers derived from the messages, usage token counts, and faults queued through
its control API (429 with retry-after, 5xx, timeouts, invalid or schema-breaking content)."""
