"""The ops dashboard (server-rendered HTML at /dashboard): see views.py."""
