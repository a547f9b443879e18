"""`Html(data, inject=True)`: an HTML string, a file path or a file object."""

from __future__ import annotations

import os

from ._base import Media, over_limit, read_path, store_file

# wandb also injects a stylesheet from its CDN; only the <base> is kept (no external fetches).
_HEAD = '<base target="_blank">'


class Html(Media):
    _log_type = "html-file"

    def __init__(self, data, inject=True, data_is_not_path=False) -> None:
        super().__init__()
        if hasattr(data, "read"):
            text = data.read()
        elif isinstance(data, os.PathLike) or (
            isinstance(data, str)
            and not data_is_not_path
            and data.endswith((".html", ".htm"))
            and os.path.isfile(data)
        ):
            text = read_path(data, "Html(data)").decode("utf-8", "replace")
        elif isinstance(data, str):
            text = data
        else:
            raise ValueError(
                f"Html(data): expected an HTML string, a path or a file object, got "
                f"{type(data).__name__}"
            )
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if inject:  # links open outside the (sandboxed) frame
            text = (
                text.replace("<head>", "<head>" + _HEAD, 1)
                if "<head>" in text
                else f"<head>{_HEAD}</head>{text}"
            )
        self.html = text

    def _trackway_json(self) -> dict | None:
        data = self.html.encode("utf-8")
        if over_limit("an HTML document", len(data)):
            return None
        return store_file("html-file", "html", "html", data)
