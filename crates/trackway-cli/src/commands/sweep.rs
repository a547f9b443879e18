//! `trackway sweep CONFIG.yaml` (create a sweep on the server) and `trackway agent SWEEP_ID`
//! (run its trials here as subprocesses of the sweep's `command`), in the standalone binary and
//! the Python wheel alike. The controller is the server's (docs/sweeps.md); the command macros
//! are trackway-sweep's; this module only talks HTTP and manages the child processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use trackway_client::{Client, ClientOptions, encode_segment};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sweep config: a YAML (or JSON) file in wandb's format.
    pub config: PathBuf,
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub entity: Option<String>,
    /// The sweep's name (default: the config's `name`).
    #[arg(long)]
    pub name: Option<String>,
}

/// What `trackway agent` takes when it runs a sweep (see `commands::agent`).
#[derive(Debug)]
pub struct AgentArgs {
    pub sweep_id: String,
    pub project: Option<String>,
    pub entity: Option<String>,
    pub count: Option<u64>,
}

fn client() -> anyhow::Result<Client> {
    let base = trackway_agent::default_base_url();
    let key = trackway_agent::api_key_for(&base);
    let opts = ClientOptions { timeout: Duration::from_secs(30), ..ClientOptions::default() };
    Ok(Client::new(&base, key.as_deref(), &opts)?)
}

/// The controller runs on the server: offline or disabled modes cannot run a sweep.
fn refuse_offline(what: &str) -> anyhow::Result<()> {
    let mode = trackway_config::env("MODE").unwrap_or_default().to_ascii_lowercase();
    if matches!(mode.as_str(), "offline" | "dryrun" | "disabled") {
        bail!(
            "{what} needs the server (the sweep controller runs there), but the mode is {mode:?}; \
             unset TRACKWAY_MODE/WANDB_MODE (or run `trackway online`)"
        );
    }
    Ok(())
}

fn project_default() -> String {
    trackway_config::env("PROJECT").unwrap_or_else(|| "uncategorized".to_owned())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    refuse_offline("trackway sweep")?;
    let text = std::fs::read_to_string(&args.config).with_context(|| format!("read {}", args.config.display()))?;
    let mut cfg: Value = serde_norway::from_str(&text).with_context(|| format!("parse {}", args.config.display()))?;
    let Some(obj) = cfg.as_object_mut() else { bail!("{}: the sweep config must be a mapping", args.config.display()) };
    if let Some(name) = args.name {
        obj.insert("name".into(), Value::String(name));
    }
    let field = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let entity = args.entity.or_else(|| field("entity")).or_else(|| trackway_config::env("ENTITY"));
    let project = args.project.or_else(|| field("project")).unwrap_or_else(project_default);
    let name = field("name");
    let body = json!({"config": cfg, "entity": entity, "project": project, "name": name});
    let out = client()?.request_json("POST", "/api/v1/sweeps", Some(body.to_string().as_bytes()))?;
    let s = &out["sweep"];
    let path = format!("{}/{}/{}", text_of(&s["entity"]), text_of(&s["project"]), text_of(&s["id"]));
    println!("{path}");
    eprintln!(
        "created sweep {} (method {}); run an agent: trackway agent {path}",
        text_of(&s["id"]),
        text_of(&s["method"])
    );
    Ok(())
}

fn text_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// `entity/project/id`, `project/id` or `id`, with defaults from the flags, the environment and
/// the server's viewer.
fn resolve(client: &Client, a: &AgentArgs) -> anyhow::Result<(String, String, String)> {
    let parts: Vec<&str> = a.sweep_id.trim_matches('/').split('/').collect();
    let (e, p, id) = match parts.as_slice() {
        [id] => (None, None, *id),
        [p, id] => (None, Some(*p), *id),
        [e, p, id] => (Some(*e), Some(*p), *id),
        _ => bail!("invalid sweep id {:?}: use ENTITY/PROJECT/ID, PROJECT/ID or ID", a.sweep_id),
    };
    let project = a.project.clone().or(p.map(str::to_owned)).unwrap_or_else(project_default);
    let entity = match a.entity.clone().or(e.map(str::to_owned)).or_else(|| trackway_config::env("ENTITY")) {
        Some(e) => e,
        None => client.viewer()?.entity.context("the server names no default entity: use ENTITY/PROJECT/ID")?,
    };
    Ok((entity, project, id.to_owned()))
}

fn interval(name: &str, default: f64, min: f64) -> Duration {
    let secs = trackway_config::env(name).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
    Duration::from_secs_f64(secs.unwrap_or(default).max(min))
}

/// One agent's calls to the controller.
struct Controller {
    client: Client,
    base: String,
    agent: String,
}

impl Controller {
    fn claim(&self) -> anyhow::Result<Value> {
        let body = json!({"agent": self.agent}).to_string();
        Ok(self.client.request_json("POST", &format!("{}/claim", self.base), Some(body.as_bytes()))?)
    }

    /// Reports the running trials and those that ended; returns the run ids to stop.
    fn heartbeat(&self, running: &[&str], ended: &[(&str, &str)]) -> anyhow::Result<Vec<String>> {
        let ended: Vec<Value> = ended.iter().map(|(r, s)| json!({"run_id": r, "state": s})).collect();
        let body = json!({"running": running, "ended": ended}).to_string();
        let out = self.client.request_json("POST", &format!("{}/heartbeat", self.base), Some(body.as_bytes()))?;
        let stop = out["stop"].as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        Ok(stop.unwrap_or_default())
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

/// Runs trials until `count` or until the sweep hands out no more; a paused sweep is waited on.
pub fn run_agent(a: &AgentArgs) -> anyhow::Result<()> {
    refuse_offline("trackway agent")?;
    let client = client()?;
    let (entity, project, id) = resolve(&client, a)?;
    let base =
        format!("/api/v1/sweeps/{}/{}/{}", encode_segment(&entity), encode_segment(&project), encode_segment(&id));
    let ctl = Controller { client, base, agent: format!("{}-{}", host_name(), std::process::id()) };
    let workdir = tempfile::Builder::new().prefix("trackway-agent-").tempdir().context("temporary directory")?;
    let (mut done, mut waiting) = (0u64, false);
    while a.count.is_none_or(|c| done < c) {
        let claim = ctl.claim()?;
        if claim["done"].as_bool() == Some(true) {
            eprintln!("sweep is {}: no more trials", text_of(&claim["state"]));
            break;
        }
        if claim["paused"].as_bool() == Some(true) {
            if !waiting {
                eprintln!("sweep is paused: waiting");
            }
            waiting = true;
            std::thread::sleep(interval("AGENT_REPORT_INTERVAL", 5.0, 0.05));
            continue;
        }
        waiting = false;
        let trial = Trial::start(&claim, (&entity, &project, &id), workdir.path())?;
        trial.wait(&ctl)?;
        done += 1;
    }
    Ok(())
}

/// One subprocess trial.
struct Trial {
    run_id: String,
    child: Child,
}

impl Trial {
    fn start(claim: &Value, (entity, project, sid): (&str, &str, &str), workdir: &Path) -> anyhow::Result<Trial> {
        let trial = &claim["trial"];
        let run_id = text_of(&trial["run_id"]).to_owned();
        let params = trial["config"].as_object().cloned().unwrap_or_default();
        // wandb's parameter file: {key: {value: v}}, read by init() through WANDB_SWEEP_PARAM_PATH.
        let wrapped: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), json!({"value": v}))).collect();
        let pfile = workdir.join(format!("{run_id}-params.json"));
        std::fs::write(&pfile, Value::Object(wrapped).to_string()).context("write the trial's parameters")?;
        let jfile = workdir.join(format!("{run_id}-args.json"));
        std::fs::write(&jfile, Value::Object(params.clone()).to_string()).context("write the trial's arguments")?;
        let command: Vec<String> = claim["command"]
            .as_array()
            .map(|c| c.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let interpreter = interpreter();
        let jtext = jfile.to_string_lossy();
        let macros = trackway_sweep::command::Macros {
            env: cfg!(unix).then_some("/usr/bin/env"),
            interpreter: &interpreter,
            program: claim["program"].as_str(),
            args_json_file: &jtext,
        };
        let argv = trackway_sweep::command::expand(&command, &params, &macros);
        let Some((exe, rest)) = argv.split_first() else { bail!("the sweep's command is empty") };
        eprintln!("trial {run_id}: {}", argv.join(" "));
        let mut cmd = Command::new(exe);
        cmd.args(rest);
        for prefix in ["TRACKWAY_", "WANDB_"] {
            cmd.env(format!("{prefix}SWEEP_ID"), sid)
                .env(format!("{prefix}RUN_ID"), &run_id)
                .env(format!("{prefix}PROJECT"), project)
                .env(format!("{prefix}ENTITY"), entity)
                .env(format!("{prefix}SWEEP_PARAM_PATH"), &pfile);
        }
        let child = cmd.spawn().with_context(|| format!("start {exe}"))?;
        Ok(Trial { run_id, child })
    }

    /// Waits for the process, heartbeating; a stop from the controller sends SIGTERM, then
    /// SIGKILL after `TRACKWAY_AGENT_KILL_DELAY` (30 s). Reports the end state.
    fn wait(mut self, ctl: &Controller) -> anyhow::Result<()> {
        let beat = interval("AGENT_REPORT_INTERVAL", 5.0, 0.05);
        let kill_delay = interval("AGENT_KILL_DELAY", 30.0, 0.0);
        let (mut next_beat, mut stop_sent) = (Instant::now() + beat, None::<Instant>);
        let status = loop {
            if let Some(status) = self.child.try_wait().context("wait for the trial")? {
                break status;
            }
            std::thread::sleep(Duration::from_millis(50).min(beat));
            if Instant::now() < next_beat {
                continue;
            }
            next_beat = Instant::now() + beat;
            let stop = match ctl.heartbeat(&[self.run_id.as_str()], &[]) {
                Ok(stop) => stop.contains(&self.run_id),
                Err(e) => {
                    eprintln!("heartbeat failed (the trial goes on): {e:#}");
                    false
                }
            };
            match stop_sent {
                None if stop => {
                    eprintln!("trial {}: stopped by the controller", self.run_id);
                    terminate(&mut self.child);
                    stop_sent = Some(Instant::now());
                }
                Some(at) if at.elapsed() >= kill_delay => {
                    let _ = self.child.kill();
                }
                _ => {}
            }
        };
        let state = if status.success() { "finished" } else { "failed" };
        ctl.heartbeat(&[], &[(self.run_id.as_str(), state)])?;
        Ok(())
    }
}

/// `${interpreter}`: `TRACKWAY_INTERPRETER` (the Python console script sets it to its own
/// interpreter), else `python3`, else `python`, as found on PATH.
fn interpreter() -> String {
    if let Some(i) = std::env::var_os("TRACKWAY_INTERPRETER").filter(|v| !v.is_empty()) {
        return i.to_string_lossy().into_owned();
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    if on_path("python3") || !on_path("python") { "python3".to_owned() } else { "python".to_owned() }
}

/// Asks the trial to stop: SIGTERM on Unix (its `finish()` hooks run), a kill elsewhere.
fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        let pid = i32::try_from(child.id()).ok().and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid
            && rustix::process::kill_process(pid, rustix::process::Signal::TERM).is_ok()
        {
            return;
        }
    }
    let _ = child.kill();
}
