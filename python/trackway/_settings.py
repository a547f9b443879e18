"""`trackway.Settings`: a lenient settings object (wandb's rejects unknown keys; we warn)."""

from __future__ import annotations

from . import _native

# Keys `_native.resolve_settings` understands: its own list (trackway-sdk), not a copy.
RESOLVED_KEYS = frozenset(_native.setting_keys())

# wandb setting names that mean one of ours.
ALIASES = {
    "run_name": "name",
    "run_id": "id",
    "run_notes": "notes",
    "run_tags": "tags",
    "run_group": "group",
    "run_job_type": "job_type",
    "root_dir": "dir",
    "x_disable_stats": "disable_stats",
    "_disable_stats": "disable_stats",
    "x_stats_sampling_interval": "stats_sample_seconds",
    "_stats_sample_rate_seconds": "stats_sample_seconds",
    "x_finish_timeout": "finish_timeout",
    "quiet": "silent",
}

# Keys we accept without a warning: Trackway-only ones and common wandb ones with no effect here.
QUIET_KEYS = frozenset(
    {
        "reinit",
        "init_timeout",
        "start_method",
        "https_proxy",
        "http_proxy",
        "show_info",
        "show_warnings",
        "show_errors",
        "anonymous",
        "program",
        "disable_git",
        "disable_job_creation",
        "x_label",
        "x_primary",
        "x_disable_meta",
        "_disable_meta",
        "x_disable_machine_info",
        "allow_val_change",
        "sync_tensorboard",
        "app_url",
        "api_key",
        "sweep_id",
        "resume_from",
        "fork_from",
        "_service_wait",
        "x_service_wait",
        "code_dir",
        "notebook_name",
        "host",
    }
)


class Settings:
    """Keyword settings; readable as attributes, unpackable as a mapping (`Settings(**s)`)."""

    def __init__(self, **kwargs) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_unknown", [])
        self.update(kwargs)

    def update(self, settings=None, **kwargs) -> None:
        data = dict(settings or {}, **kwargs)
        for key, value in data.items():
            key = ALIASES.get(key, key)
            if key not in RESOLVED_KEYS and key not in QUIET_KEYS and key not in self._unknown:
                self._unknown.append(key)
            self._values[key] = value

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        key = ALIASES.get(key, key)
        if key in self._values:
            return self._values[key]
        if key in RESOLVED_KEYS or key in QUIET_KEYS:
            return None
        raise AttributeError(f"Settings has no attribute {key!r}")

    def __setattr__(self, key, value) -> None:
        self.update({key: value})

    def keys(self):
        return self._values.keys()

    def __getitem__(self, key):
        return self._values[ALIASES.get(key, key)]

    def __iter__(self):
        return iter(self._values)

    def __contains__(self, key) -> bool:
        return ALIASES.get(key, key) in self._values

    def to_dict(self) -> dict:
        return dict(self._values)

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "api_key" and v else v) for k, v in self._values.items()}
        return f"Settings({shown})"


def settings_args(settings) -> tuple[dict, list]:
    """(args for resolve_settings, unknown keys) from a Settings, a dict or None."""
    if settings is None:
        return {}, []
    if isinstance(settings, Settings):
        s = settings
    elif isinstance(settings, dict) or hasattr(settings, "keys"):
        s = Settings(**{str(k): settings[k] for k in settings.keys()})
    else:
        raise TypeError("settings must be a trackway.Settings or a dict")
    args = {k: v for k, v in s._values.items() if k in RESOLVED_KEYS and v is not None}
    return args, list(s._unknown)
