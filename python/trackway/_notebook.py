"""Jupyter/IPython: the run's inline panel (`run.display()`, `run._repr_html_()`).

In a notebook kernel, `init()` shows a panel with the run's link; online it embeds the server's
run page (which refreshes itself), and after every cell the panel is redrawn with the latest
summary values, so an offline run is live too. `finish()` redraws it one last time, marked
finished. A run never finished in the notebook is finished by the atexit hook when the kernel
shuts down, like a script's. Silent mode (`%env TRACKWAY_SILENT true`) shows no panel.

IPython is never imported here: a kernel has it loaded already, and a plain script must not pay
for it. Console capture needs nothing special: ipykernel's `sys.stdout`/`sys.stderr` are
stream objects whose `write` `_console` wraps like any other.
"""

from __future__ import annotations

import html
import sys

MAX_SUMMARY_ROWS = 12


def ipython_shell():
    """The running IPython shell (terminal or kernel), else None. Never imports IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except Exception:
        return None


def kernel_shell():
    """The IPython shell when this process is a notebook kernel (HTML can be shown), else None."""
    shell = ipython_shell()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # terminal IPython: the printed link is all it can show
    return shell


def _summary_rows(run) -> list:
    try:
        items = [(k, v) for k, v in dict(run.summary).items() if not str(k).startswith("_")]
    except Exception:
        return []
    rows = []
    for key, value in sorted(items)[:MAX_SUMMARY_ROWS]:
        if isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, (int, str, bool)) or value is None:
            text = str(value)
        else:
            text = type(value).__name__
        rows.append((str(key), text[:80]))
    return rows


def to_html(run, height: int = 420, hidden: bool = False) -> str:
    """The panel: a header line with the link, the live run page online, the summary."""
    url = run.url
    name = html.escape(str(run.name or run.id))
    title = f'<a href="{html.escape(url)}" target="_blank">{name}</a>' if url else name
    state = "finished" if run._finished else ("running" if not run.offline else "offline")
    where = "" if url else f" · <code>{html.escape(run.dir)}</code>"
    head = (
        f'<div class="trackway-run" data-run-id="{html.escape(run.id)}" '
        f'data-state="{state}" style="font-family:sans-serif;font-size:13px">'
    )
    line = (
        f"<div><b>trackway</b> run {title} ({html.escape(run.id)}) · project "
        f"{html.escape(str(run.project))} · <i>{state}</i>{where}</div>"
    )
    parts = [head, line]
    if url and not hidden and not run._finished:
        parts.append(
            f'<iframe src="{html.escape(url)}" style="border:none;width:100%;'
            f'height:{int(height)}px" loading="lazy"></iframe>'
        )
    rows = _summary_rows(run)
    if rows:
        cells = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        parts.append(f'<table class="trackway-summary">{cells}</table>')
    parts.append("</div>")
    return "".join(parts)


def display(run, height: int = 420, hidden: bool = False) -> bool:
    """Shows the panel in the current cell; False outside a notebook kernel."""
    if kernel_shell() is None:
        return False
    from IPython.display import HTML
    from IPython.display import display as ipy_display

    ipy_display(HTML(to_html(run, height, hidden)))
    return True


class _Panel:
    """The panel init() showed, redrawn after each cell and at finish."""

    def __init__(self, shell, run) -> None:
        from IPython.display import HTML
        from IPython.display import display as ipy_display

        self.shell, self.run, self.html_cls = shell, run, HTML
        self.handle = ipy_display(HTML(to_html(run)), display_id=True)
        shell.events.register("post_run_cell", self.refresh)

    def refresh(self, *_args) -> None:
        try:
            self.handle.update(self.html_cls(to_html(self.run)))
        except Exception:
            pass

    def stop(self, exit_code=None) -> None:
        try:
            self.shell.events.unregister("post_run_cell", self.refresh)
        except ValueError:
            pass
        self.refresh()


def on_init(run):
    """The `_lifecycle` capture hook: the panel for a run started in a notebook kernel."""
    shell = kernel_shell()
    if shell is None or run._s.get("silent") or getattr(run, "_disabled", False):
        return None
    panel = _Panel(shell, run)
    return panel.stop
