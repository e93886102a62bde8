"""Instagram's sources, best first: the Graph API (business and creator accounts, needs a token),
a RapidAPI-style provider (any public account, paginated listings, needs a key), the web JSON
(keyless, public profiles and posts only). Each module fetches and parses side by side and
raises only core.errors classes.

The capabilities and what `call(capability, **params)` returns (instagram.models):

    profile_by_handle(handle, posts=12)        ProfileWithPosts  (posts: newest first)
    profile_by_id(profile_id)                  Profile
    posts_of_profile(handle, profile_id, cursor=None)   Page[Post]
    post_by_shortcode(shortcode)               Post
    post_by_id(post_id)                        Post
    post_insights(post_id, post_type)          list[Insight]
    profile_insights(profile_id)               list[Insight]   (reach, impressions, ...)
    audience_insights(profile_id)              list[Insight]   (follower demographics)
    stories(profile_id, handle)                list[Post]      (post_type "story")
    story_insights(story_id)                   list[Insight]
    followers(profile_id, handle, cursor=None) Page[Account]
    following(profile_id, handle, cursor=None) Page[Account]
    comments(post_id, shortcode, cursor=None)  Page[Comment]
    likers(post_id, shortcode, cursor=None)    Page[Account]
    hashtag_posts(hashtag, tab="top"|"recent", cursor=None)   Page[Post]
    tagged_posts(profile_id, handle, cursor=None)             Page[Post]

A private account is Permanent (`Private`), an unknown one NotFound; a source that cannot serve
a capability for this target (the Graph API for a personal account) raises Unsupported so the
director asks the next source.
"""
