"""Platform credentials: storage, picking and validation of API keys and tokens."""
