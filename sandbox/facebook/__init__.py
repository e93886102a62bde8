"""The sandbox's Facebook: a small world, its Graph API and share redirects."""
