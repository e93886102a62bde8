"""The assets worker's hook (Platform.attach_asset): the URL of the stored copy of an item's
image goes on its row, in the `asset_url` column, which refreshes leave alone."""

from core.stored import asset_attacher

# The router's kind -> the row(s) that item is; $1 is its id, $2 the stored URL.
QUERIES = {
    "post": "UPDATE instagram_post SET asset_url = $2 WHERE shortcode = $1 OR post_id = $1",
    # A story link's id is "{user}/{media id}".
    "story": "UPDATE instagram_post SET asset_url = $2 WHERE post_id = split_part($1, '/', 2)",
    "profile": "UPDATE instagram_account SET asset_url = $2"
               " WHERE profile_id = $1 OR lower(handle) = lower(ltrim($1, '@'))",
}


attach_asset = asset_attacher(QUERIES)
