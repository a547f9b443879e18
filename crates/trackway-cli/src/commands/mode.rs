//! `trackway online|offline|disabled|enabled` (and `on`/`off`).

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Online,
    Offline,
    Disabled,
    Enabled,
}

pub fn run(_mode: Mode) -> anyhow::Result<()> {
    anyhow::bail!("mode switching is not built yet")
}
