"""The Instagram Graph API (business and creator accounts; needs a token): source.py calls it,
parse.py reads its bodies, tokens.py keeps the tokens, usage.py reads its usage headers."""
