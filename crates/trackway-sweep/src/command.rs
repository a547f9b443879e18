//! A trial's command line: the sweep's `command` with wandb's macros expanded. The command-line
//! agent (`trackway agent SWEEP_ID`) is the caller; the rule lives here so it is pure and tested.

use serde_json::{Map, Value};

/// What the macros expand to besides the trial's parameters.
#[derive(Clone, Debug)]
pub struct Macros<'a> {
    /// `${env}`: `/usr/bin/env` on Unix, nothing elsewhere.
    pub env: Option<&'a str>,
    /// `${interpreter}`: the Python to run the program with.
    pub interpreter: &'a str,
    /// `${program}`: the config's `program`.
    pub program: Option<&'a str>,
    /// `${args_json_file}`: a file holding the parameters as one JSON object.
    pub args_json_file: &'a str,
}

/// `--key=value` (or `key=value`) per top-level parameter: strings as they are, anything else
/// as JSON, as wandb's agent writes them.
fn flat_args(params: &Map<String, Value>, hyphens: bool) -> Vec<String> {
    params
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            if hyphens { format!("--{k}={text}") } else { format!("{k}={text}") }
        })
        .collect()
}

/// The trial's argv: each whole-argument macro expands to zero or more arguments; `${program}`
/// inside a longer argument is replaced in place.
#[must_use]
pub fn expand(command: &[String], params: &Map<String, Value>, m: &Macros<'_>) -> Vec<String> {
    let mut argv = Vec::with_capacity(command.len() + params.len());
    for part in command {
        match part.as_str() {
            "${env}" => argv.extend(m.env.map(str::to_owned)),
            "${interpreter}" => argv.push(m.interpreter.to_owned()),
            "${program}" => argv.extend(m.program.map(str::to_owned)),
            "${args}" => argv.extend(flat_args(params, true)),
            "${args_no_hyphens}" => argv.extend(flat_args(params, false)),
            "${args_json}" => argv.push(Value::Object(params.clone()).to_string()),
            "${args_json_file}" => argv.push(m.args_json_file.to_owned()),
            other => argv.push(other.replace("${program}", m.program.unwrap_or_default())),
        }
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_macro_expands_as_wandb_does() {
        let params: Map<String, Value> =
            serde_json::from_str(r#"{"lr": 0.1, "opt": "adam", "layers": [1, 2]}"#).expect("json");
        let m =
            Macros { env: Some("/usr/bin/env"), interpreter: "py", program: Some("t.py"), args_json_file: "/a.json" };
        let cmd: Vec<String> =
            ["${env}", "${interpreter}", "${program}", "${args}", "--cfg=${program}.yaml", "${args_no_hyphens}"]
                .map(str::to_owned)
                .to_vec();
        let argv = expand(&cmd, &params, &m);
        let want = [
            "/usr/bin/env",
            "py",
            "t.py",
            "--lr=0.1",
            "--opt=adam",
            "--layers=[1,2]",
            "--cfg=t.py.yaml",
            "lr=0.1",
            "opt=adam",
            "layers=[1,2]",
        ];
        assert_eq!(argv, want);
        let json = expand(&["${args_json}".into(), "${args_json_file}".into()], &params, &m);
        assert_eq!(json, [r#"{"lr":0.1,"opt":"adam","layers":[1,2]}"#, "/a.json"]);
        let bare = Macros { env: None, program: None, ..m };
        assert_eq!(expand(&["${env}".into(), "${program}".into()], &params, &bare), Vec::<String>::new());
    }
}
