"""Facebook's source: the Graph API (page or user tokens). It fetches and parses side by side
and raises only core.errors classes (and Private, a Permanent).

The capabilities and what `call(capability, **params)` returns (facebook.models):

    page(page)                   Page          (a page by user name or numeric id)
    posts(ids)                   dict[str, Post | Exception]   (posts, one ?ids= call of <= 50)
    videos(ids)                  dict[str, Post | Exception]   (videos and reels, likewise)
"""
