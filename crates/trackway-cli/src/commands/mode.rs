//! `trackway online|offline|disabled|enabled` (and `on`/`off`): the `mode` of the workspace
//! settings file `<root>/settings` for the current directory (`./trackway`, or `TRACKWAY_DIR`).
//! Environment variables and `init(mode=...)` still override it.

use anyhow::Context;

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Online,
    Offline,
    Disabled,
    Enabled,
}

pub fn run(mode: Mode) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("no current directory")?;
    let root = trackway_config::root_dir(None, &cwd);
    let value = match mode {
        Mode::Online => Some("online"),
        Mode::Offline => Some("offline"),
        Mode::Disabled => Some("disabled"),
        // Back to the default (online), rather than remembering what was before `disabled`.
        Mode::Enabled => None,
    };
    trackway_config::write_workspace_setting(&root, "mode", value)?;
    let file = root.join("settings");
    match value {
        Some(v) => println!("mode = {v} (in {})", file.display()),
        None => println!("mode cleared: runs are online by default (in {})", file.display()),
    }
    if let Some(env) = trackway_config::env("MODE") {
        println!("note: the environment sets the mode to {env:?}, which takes precedence");
    }
    Ok(())
}
