"""The sandbox's X: syndication, GraphQL, guest activation and t.co redirects."""
