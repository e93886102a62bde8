"""The assets worker's hook (Platform.attach_asset): the URL of the stored copy of an item's
image goes on its row, in the `asset_url` column, which refreshes leave alone."""

from typing import Any

# The router's kind -> the row(s) that item is; $1 is its id, $2 the stored URL.
QUERIES = {
    "post": "UPDATE instagram_post SET asset_url = $2 WHERE shortcode = $1 OR post_id = $1",
    "profile": "UPDATE instagram_account SET asset_url = $2"
               " WHERE profile_id = $1 OR lower(handle) = lower(ltrim($1, '@'))",
}


async def attach_asset(conn: Any, kind: str, item_id: str, url: str) -> int:
    """Set the item's asset_url; the number of rows updated (0: not stored, or a kind that has
    no row of its own)."""
    query = QUERIES.get(kind)
    if query is None:
        return 0
    status: str = await conn.execute(query, item_id, url)
    return int(status.rpartition(" ")[2] or 0)
