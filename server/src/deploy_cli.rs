//! `optimus deploy`: deploys (or rolls back) a project through a running Optimus's API with a
//! token, and follows the deployment step by step until it ends. Exit status 0 when it
//! succeeded, 1 when it failed or rolled back, 2 when it could not be asked.

use serde_json::{json, Value};
use std::time::Duration;

/// What to deploy and where.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// The project: its id or its name.
    pub project: String,
    /// Deploy this kept release instead of making a new one.
    #[arg(long)]
    pub release: Option<i64>,
    /// `blue_green` or `recreate` for every service (default: each service's own).
    #[arg(long)]
    pub strategy: Option<String>,
    /// Roll back: to `--release`, or to the release before the current one.
    #[arg(long)]
    pub rollback: bool,
    /// Make the release from this pipeline run's artifacts.
    #[arg(long)]
    pub pipeline_run: Option<i64>,
    /// Ask the Council of Minds first (the token needs `write` too).
    #[arg(long)]
    pub council: bool,
    /// Optimus's address (default: this host's `bind` setting).
    #[arg(long, env = "OPTIMUS_URL")]
    pub url: Option<String>,
    /// An API token with the `deploy` scope (and `read` to follow it).
    #[arg(long, env = "OPTIMUS_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Queue it and exit without following it.
    #[arg(long)]
    pub no_wait: bool,
}

/// Runs the command; the exit status.
pub async fn run(args: DeployArgs, default_url: String) -> i32 {
    match deploy(args, default_url).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("optimus deploy: {e}");
            2
        }
    }
}

async fn deploy(args: DeployArgs, default_url: String) -> Result<i32, String> {
    let base = args.url.clone().unwrap_or(default_url);
    let base = base.trim_end_matches('/').to_owned();
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| e.to_string())?,
        base,
        token: args.token.clone(),
    };
    let project = api.project_id(&args.project).await?;
    let d = if args.rollback {
        api.call(
            "deployments/rollback",
            json!({"project_id": project, "release": args.release}),
        )
        .await?
    } else {
        api.call(
            "deployments/deploy",
            json!({"project_id": project, "release": args.release,
                   "strategy": args.strategy, "pipeline_run_id": args.pipeline_run,
                   "council": args.council}),
        )
        .await?
    };
    let id = d["id"].as_i64().ok_or("the answer has no deployment id")?;
    println!(
        "deployment {id}: release {} of project {project} ({})",
        d["release"],
        d["kind"].as_str().unwrap_or("deploy")
    );
    if let Some(option) = d["council"]["option"].as_str() {
        println!(
            "  the council says {option} (confidence {:.2}, deliberation #{})",
            d["council"]["confidence"].as_f64().unwrap_or_default(),
            d["council"]["deliberation_id"]
        );
    }
    if args.no_wait {
        return Ok(0);
    }
    let mut shown = 0;
    loop {
        let d = api.call("deployments/get", json!({"id": id})).await?;
        let steps = d["steps"].as_array().cloned().unwrap_or_default();
        for s in steps.iter().skip(shown) {
            if s["status"] == "running" {
                break;
            }
            let detail = s["detail"]
                .as_str()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            println!(
                "  {} {}{detail}",
                mark(&s["status"]),
                s["name"].as_str().unwrap_or("")
            );
            shown += 1;
        }
        match d["status"].as_str() {
            Some("succeeded") => {
                println!("succeeded: release {} serves", d["release"]);
                return Ok(0);
            }
            Some(status @ ("failed" | "rolled_back")) => {
                let reason = d["reason"].as_str().unwrap_or("no reason given");
                println!("{}: {reason}", status.replace('_', " "));
                return Ok(1);
            }
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

fn mark(status: &Value) -> &'static str {
    match status.as_str() {
        Some("done") => "✓",
        Some("failed") => "✗",
        _ => "·",
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, path: &str, body: Value) -> Result<Value, String> {
        let r = self
            .http
            .post(format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.base))?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let message = body["message"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| body["what"].as_str().map(|w| format!("{w} not found")))
            .or_else(|| body["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "no detail".into());
        let field = body["field"]
            .as_str()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        Err(format!("{path}: {status}: {message}{field}"))
    }

    /// The id of the project named (or numbered) `project`.
    async fn project_id(&self, project: &str) -> Result<i64, String> {
        if let Ok(id) = project.parse::<i64>() {
            return Ok(id);
        }
        let page = self
            .call("projects/list", json!({"search": project, "limit": 200}))
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let named: Vec<&Value> = items.iter().filter(|p| p["name"] == project).collect();
        match named.as_slice() {
            [one] => one["id"]
                .as_i64()
                .ok_or_else(|| "a project without an id".into()),
            [] => Err(format!("no project named `{project}`")),
            _ => Err(format!(
                "{} projects are named `{project}`: give the id",
                named.len()
            )),
        }
    }
}
