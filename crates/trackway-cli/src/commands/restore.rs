//! `trackway restore` and `trackway pull`.

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {}

#[derive(Debug, clap::Args)]
pub struct PullArgs {}

pub fn restore(_args: RestoreArgs) -> anyhow::Result<()> {
    anyhow::bail!("`trackway restore` is not built yet")
}

pub fn pull(_args: PullArgs) -> anyhow::Result<()> {
    anyhow::bail!("`trackway pull` is not built yet")
}
