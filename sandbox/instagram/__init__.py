"""The sandbox's Instagram: a deterministic world, and the Graph API on top of it."""
