"""X's sources, best first for tweets: the GraphQL API the web app uses (guest token or a
stored credential; every count, views included) then the keyless syndication answer of
embedded tweets (no retweet or view counts). Profiles come from GraphQL alone: syndication has
none. Each module raises only core.errors classes.

    tweet(tweet_id)                  Tweet
    profile_by_handle(handle)        Account
    profile_by_id(user_id)           Account   (GraphQL UserByRestId)
"""
