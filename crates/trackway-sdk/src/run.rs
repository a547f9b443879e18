//! The public Rust API: [`init`] and [`Run`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use trackway_types::{Map, MetaRecord, Value};

use crate::SdkError;
use crate::engine::{Logged, ResumeState, RunCore, StartInfo};
use crate::metrics::MetricDef;
use crate::settings::{self, Mode, Settings};

/// Arguments of [`init`]. Unset fields come from the environment (`TRACKWAY_*`/`WANDB_*`), the
/// workspace settings file `<dir>/trackway/settings`, or defaults.
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    pub project: Option<String>,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<Vec<String>>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    /// Run id; a new random one when unset.
    pub id: Option<String>,
    /// Parent of the `trackway` directory; the current directory when unset.
    pub dir: Option<PathBuf>,
    /// `online`, `offline` or `disabled`.
    pub mode: Option<String>,
    /// `allow`, `must`, `never` or `auto` (continue the run `id`'s latest attempt).
    pub resume: Option<String>,
    pub base_url: Option<String>,
    pub config: Map,
    /// The `trackway` executable that runs the agent; `TRACKWAY_EXE`, else `trackway` on PATH.
    pub agent_exe: Option<PathBuf>,
}

impl InitOptions {
    fn to_args(&self) -> Map {
        let mut m = Map::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), Value::Str(v.clone()));
            }
        };
        put("project", &self.project);
        put("entity", &self.entity);
        put("name", &self.name);
        put("notes", &self.notes);
        put("group", &self.group);
        put("job_type", &self.job_type);
        put("id", &self.id);
        put("mode", &self.mode);
        put("resume", &self.resume);
        put("base_url", &self.base_url);
        if let Some(d) = &self.dir {
            m.insert("dir".into(), Value::Str(d.to_string_lossy().into_owned()));
        }
        if let Some(t) = &self.tags {
            m.insert("tags".into(), Value::List(t.iter().cloned().map(Value::Str).collect()));
        }
        m
    }
}

/// A run being logged. Dropping it without [`Run::finish`] finishes it with exit code 0.
#[derive(Debug)]
pub struct Run {
    /// `None` in disabled mode: every call is an in-memory no-op.
    core: Option<RunCore>,
    settings: Settings,
    run_id: String,
    /// Online runs: restarts a dead agent from `log` and `finish` (rate-limited).
    watch: Option<crate::agent::AgentWatch>,
}

/// Starts a run: resolves settings, creates its directory and `run` record, and (online) makes
/// sure an agent is running. Never contacts the server.
///
/// # Errors
/// Invalid settings, a failed resume check, or an I/O error creating the run directory.
pub fn init(opts: InitOptions) -> Result<Run, SdkError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let settings = settings::resolve(&opts.to_args(), &cwd)?;
    let run_id = settings.id.clone().unwrap_or_else(crate::new_run_id);
    if settings.mode == Mode::Disabled {
        return Ok(Run { core: None, settings, run_id, watch: None });
    }
    let (resume, remote_config) = resume_with_server(&settings, &run_id)?;
    let mut config = remote_config;
    config.extend(opts.config);
    let info = StartInfo {
        run_id: run_id.clone(),
        project: Some(settings.project.clone()),
        entity: settings.entity.clone(),
        name: settings.name.clone(),
        tags: settings.tags.clone(),
        notes: settings.notes.clone(),
        group: settings.group.clone(),
        job_type: settings.job_type.clone(),
        mode: Some(settings.mode.as_str().to_owned()),
        resume: settings.resume.clone(),
        base_url: settings.base_url.clone(),
        config,
        settings: Map::new(),
    };
    let core = RunCore::start(&settings.root, info, resume)?;
    // Offline runs get the agent too: it captures into the run directory and uploads nothing.
    let watch = if matches!(settings.mode, Mode::Online | Mode::Offline) {
        let exe = opts
            .agent_exe
            .clone()
            .or_else(|| std::env::var_os("TRACKWAY_EXE").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("trackway"));
        let mut watch = crate::agent::AgentWatch::new(&settings.root, &exe);
        watch.ensure_now();
        Some(watch)
    } else {
        None
    };
    Ok(Run { core: Some(core), settings, run_id, watch })
}

/// The state to resume run `run_id` from, per the `resume` policy: `None` when starting fresh.
///
/// # Errors
/// [`SdkError::Resume`] for `must` with no earlier attempt and `never` with one.
pub fn resume_state(root: &Path, run_id: &str, policy: Option<&str>) -> Result<Option<ResumeState>, SdkError> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    let attempts = trackway_runlog::find_run_dirs(root, run_id)?;
    match (policy, attempts.last()) {
        ("never", Some(_)) => Err(SdkError::Resume(format!("run {run_id} exists and resume=never"))),
        ("must", None) => Err(SdkError::Resume(format!("run {run_id} not found and resume=must"))),
        (_, None) => Ok(None),
        // The newest attempt that can be read: one being created by another process, or left
        // empty by a crash, is skipped instead of failing init().
        (_, Some(_)) => Ok(trackway_runlog::latest_state(&attempts)
            .map(|(_, st)| ResumeState { last_step: st.last_step, summary: st.summary })),
    }
}

/// The local resume state, and for an online `allow`/`must` resume the server's when it is
/// further along (another directory or machine logged the run): steps continue after the
/// server's last step, its config is restored under the new one, its summary carried on.
/// Returns the state and the config to start from.
fn resume_with_server(settings: &Settings, run_id: &str) -> Result<(Option<ResumeState>, Map), SdkError> {
    let policy = settings.resume.as_deref();
    let online = settings.mode == Mode::Online && matches!(policy, Some("allow" | "must"));
    let local = match resume_state(&settings.root, run_id, policy) {
        Err(SdkError::Resume(_)) if online => None, // `must`: the server decides
        other => other?,
    };
    if !online {
        return Ok((local, Map::new()));
    }
    let remote = crate::fetch_remote_run(
        &crate::remote::base_url_or_default(settings.base_url.as_deref()),
        settings.api_key.as_deref(),
        settings.entity.as_deref(),
        &settings.project,
        run_id,
        crate::remote::REMOTE_RESUME_TIMEOUT,
    );
    match remote {
        Ok(Some(r)) if r.last_step > local.as_ref().and_then(|l| l.last_step) || local.is_none() => {
            Ok((Some(ResumeState { last_step: r.last_step, summary: r.summary }), r.config))
        }
        Ok(None) if local.is_none() && policy == Some("must") => {
            Err(SdkError::Resume(format!("run {run_id} not found and resume=must")))
        }
        Ok(_) => Ok((local, Map::new())),
        Err(e) => {
            tracing::warn!(run_id, error = %e, "could not ask the server about the resumed run; continuing from local state");
            Ok((local, Map::new()))
        }
    }
}

impl Run {
    /// Logs a row: `log(data)` with wandb's default step/commit rules (commit, step += 1).
    ///
    /// # Errors
    /// I/O errors writing the log, or [`SdkError::Finished`].
    pub fn log(&mut self, data: Map) -> Result<Logged, SdkError> {
        self.log_with(data, None, None)
    }

    /// `log(data, step, commit)` with the rules of wandb: a `step` above the current one starts
    /// a new row (not committed unless `commit == Some(true)`), a lower one drops the data
    /// ([`Logged::Dropped`]); `commit == Some(false)` keeps adding to the current row.
    ///
    /// # Errors
    /// As [`Run::log`].
    pub fn log_with(&mut self, data: Map, step: Option<u64>, commit: Option<bool>) -> Result<Logged, SdkError> {
        if let Some(w) = &mut self.watch {
            w.poke();
        }
        match &mut self.core {
            Some(c) => c.log(data, step, commit),
            None => Ok(Logged::Written),
        }
    }

    /// Replaces top-level config keys.
    ///
    /// # Errors
    /// As [`Run::log`].
    pub fn config_update(&mut self, data: Map) -> Result<(), SdkError> {
        self.core.as_mut().map_or(Ok(()), |c| c.config_update(data))
    }

    /// Sets a summary key explicitly; it stays until the key is logged again.
    ///
    /// # Errors
    /// As [`Run::log`].
    pub fn summary_set(&mut self, key: &str, value: Value) -> Result<(), SdkError> {
        self.core.as_mut().map_or(Ok(()), |c| c.summary_set(&[key.to_owned()], value))
    }

    /// `define_metric(name, step_metric, summary, goal)`: `name` may be `*` or `prefix/*`;
    /// `summary` aggregates are `min,max,mean,first,last,none`. A repeated call for the same
    /// name merges onto the earlier one, as wandb's does.
    ///
    /// # Errors
    /// [`SdkError::InvalidMetric`] for bad names, aggregates or goals.
    pub fn define_metric(
        &mut self,
        name: &str,
        step_metric: Option<&str>,
        summary: &[&str],
        goal: Option<&str>,
    ) -> Result<(), SdkError> {
        let summary: Vec<String> = summary.iter().map(|s| (*s).to_owned()).collect();
        let def = MetricDef::new(name, step_metric, None, &summary, goal, None)?;
        self.core.as_mut().map_or(Ok(()), |c| c.define_metric(def, false))
    }

    /// Renames the run.
    ///
    /// # Errors
    /// As [`Run::log`].
    pub fn set_name(&mut self, name: &str) -> Result<(), SdkError> {
        let meta = MetaRecord { name: Some(name.to_owned()), ..Default::default() };
        self.core.as_mut().map_or(Ok(()), |c| c.set_meta(meta))
    }

    /// Finishes the run (idempotent) and waits up to `finish_timeout` for the agent to upload.
    ///
    /// # Errors
    /// I/O errors writing the final records.
    pub fn finish(&mut self, exit_code: Option<i64>) -> Result<(), SdkError> {
        let Some(core) = &mut self.core else {
            return Ok(());
        };
        if core.finished() {
            return Ok(());
        }
        core.finish(exit_code, true)?;
        if let Some(w) = &mut self.watch {
            w.ensure_now(); // an agent killed meanwhile is restarted, or nothing would upload
        }
        if self.settings.mode == Mode::Online {
            let _ = core.wait_uploaded(Duration::from_secs_f64(self.settings.finish_timeout));
        }
        Ok(())
    }

    #[must_use]
    pub fn id(&self) -> &str {
        &self.run_id
    }
    /// The current step.
    #[must_use]
    pub fn step(&self) -> u64 {
        self.core.as_ref().map_or(0, RunCore::step)
    }
    /// The run directory (`None` when disabled).
    #[must_use]
    pub fn dir(&self) -> Option<&Path> {
        self.core.as_ref().map(RunCore::dir)
    }
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// The current summary (empty when disabled).
    #[must_use]
    pub fn summary(&self) -> Map {
        self.core.as_ref().map(|c| c.summary().clone()).unwrap_or_default()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(core) = &mut self.core
            && let Err(e) = core.finish(Some(0), false)
        {
            tracing::warn!("finishing run {}: {e}", self.run_id);
        }
    }
}
