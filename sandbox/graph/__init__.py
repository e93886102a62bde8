"""The sandbox's Graph API: debug_token for the tokens it knows."""
