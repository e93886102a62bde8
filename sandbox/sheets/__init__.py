"""The Google Sheets API v4 stand-in: an in-memory store of spreadsheets, the endpoints Beat's
client calls, the OAuth token endpoint of a service account made at start-up, and a control API
to create sheets and read back what was written."""
