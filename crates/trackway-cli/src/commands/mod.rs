//! One module per subcommand. Each module owns its `Args` and a `run` function; the logic lives in
//! the library crates, so these modules only parse and wire.
pub mod admin;
pub mod agent;
pub mod artifact;
pub mod import;
pub mod login;
pub mod mode;
pub mod restore;
pub mod runs;
pub mod server;
pub mod status;
pub mod sweep;
pub mod sync;
