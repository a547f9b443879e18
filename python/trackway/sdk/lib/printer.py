"""Compat `wandb.sdk.lib.printer.new_printer()` (lm-eval): terminal output through termlog."""

from __future__ import annotations

from ... import _term


class Printer:
    """Just enough of wandb's printer: `display()` prints, formatting helpers return text."""

    def display(self, text, *, level=None, default_text=None) -> None:
        lines = text if isinstance(text, (list, tuple)) else [text]
        for line in lines:
            if level in ("error", 40):
                _term.termerror(line)
            elif level in ("warn", "warning", 30):
                _term.termwarn(line)
            else:
                _term.termlog(line)

    def emoji(self, name: str) -> str:
        return ""

    def link(self, url: str, text: str | None = None) -> str:
        return text or url

    def name(self, text: str) -> str:
        return text

    def files(self, text: str) -> str:
        return text

    def secondary_text(self, text: str) -> str:
        return text

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def new_printer(settings=None) -> Printer:
    return Printer()
