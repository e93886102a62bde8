"""Graph API error bodies, in the real shape:

    {"error": {"message", "type", "code", "error_subcode"?, "is_transient"?,
               "error_user_title"?, "error_user_msg"?, "fbtrace_id"}}
"""

from typing import Any


class GraphError(Exception):
    """Raised by a route: answered with HTTP `status` and the error body."""

    def __init__(self, code: int, message: str, kind: str = "OAuthException",
                 subcode: int | None = None, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.kind = code, message, kind
        self.subcode, self.status, self.extra = subcode, status, extra

    def body(self, trace: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        error["fbtrace_id"] = trace
        return {"error": error}


def bad_param(message: str) -> GraphError:
    return GraphError(100, message if message.startswith("(#") else f"(#100) {message}")


def no_such_object(node_id: str) -> GraphError:
    return GraphError(100, f"Unsupported get request. Object with ID '{node_id}' does not "
                      "exist, cannot be loaded due to missing permissions, or does not support "
                      "this operation. Please read the Graph API documentation at "
                      "https://developers.facebook.com/docs/graph-api",
                      kind="GraphMethodException", subcode=33)


def cannot_find_user(username: str) -> GraphError:
    """business_discovery of an account that is not a public business/creator account."""
    return GraphError(110, "Invalid user id", subcode=2207013, is_transient=False,
                      error_user_title="Cannot find User",
                      error_user_msg=f"The user with username: {username} cannot be found.")


def no_permission() -> GraphError:
    return GraphError(10, "(#10) Application does not have permission for this action")


def rate_limited(code: int, message: str) -> GraphError:
    return GraphError(code, message, is_transient=True)
