//! Stack, framework and command detection from a project's own files.
//!
//! Longer than most files on purpose: one detector per stack, in the order of precedence, so a
//! reader compares them top to bottom; the last ~140 lines are its tests.

use crate::models::catalog::{CommandKind, Component, ProposedCommand, Stack};
use std::collections::BTreeSet;
use std::path::Path;

/// Files whose presence makes a folder a project (or a component of one).
pub const MANIFESTS: [&str; 20] = [
    "Cargo.toml",
    "package.json",
    "deno.json",
    "deno.jsonc",
    "pyproject.toml",
    "requirements.txt",
    "Pipfile",
    "setup.py",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
    "mix.exs",
    "Dockerfile",
    "compose.yaml",
    "docker-compose.yml",
    "Procfile",
    "optimus.toml",
];

/// What detection found in one folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detection {
    /// A name from a manifest, if any.
    pub name: Option<String>,
    /// A description from a manifest, if any.
    pub description: Option<String>,
    /// Stacks.
    pub stacks: BTreeSet<Stack>,
    /// Frameworks and tools.
    pub frameworks: BTreeSet<String>,
    /// Proposed commands.
    pub commands: Vec<ProposedCommand>,
    /// Expected port.
    pub port: Option<u16>,
    /// Problems met.
    pub errors: Vec<String>,
}

impl Detection {
    fn propose(
        &mut self,
        kind: CommandKind,
        command: impl Into<String>,
        source: impl Into<String>,
    ) {
        // The first proposal of a kind wins; later ones are alternatives only if distinct.
        let command = command.into();
        if self
            .commands
            .iter()
            .any(|c| c.kind == kind && c.command == command)
        {
            return;
        }
        self.commands.push(ProposedCommand {
            kind,
            command,
            cwd: ".".into(),
            source: source.into(),
        });
    }

    fn has(&self, kind: CommandKind) -> bool {
        self.commands.iter().any(|c| c.kind == kind)
    }

    fn port(&mut self, port: u16) {
        self.port.get_or_insert(port);
    }
}

/// Whether `dir` holds a manifest (or a .csproj/.sln, or a static index.html).
pub fn is_project_dir(dir: &Path) -> bool {
    MANIFESTS.iter().any(|m| dir.join(m).is_file()) || has_dotnet_project(dir)
}

fn has_dotnet_project(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.ends_with(".csproj") || n.ends_with(".fsproj") || n.ends_with(".sln")
            })
        })
        .unwrap_or(false)
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// Detects everything about the folder `dir`.
pub fn detect(dir: &Path) -> Detection {
    let mut d = Detection::default();
    rust(dir, &mut d);
    node(dir, &mut d);
    deno(dir, &mut d);
    python(dir, &mut d);
    go(dir, &mut d);
    jvm(dir, &mut d);
    ruby(dir, &mut d);
    php(dir, &mut d);
    dotnet(dir, &mut d);
    elixir(dir, &mut d);
    docker(dir, &mut d);
    procfile(dir, &mut d);
    make_and_just(dir, &mut d);
    if d.stacks.is_empty() && exists(dir, "index.html") {
        d.stacks.insert(Stack::Static);
        d.propose(
            CommandKind::Run,
            "python3 -m http.server 8080",
            "index.html",
        );
        d.port(8080);
    }
    d
}

fn rust(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "Cargo.toml") else {
        return;
    };
    d.stacks.insert(Stack::Rust);
    match text.parse::<toml::Table>() {
        Ok(doc) => {
            if let Some(pkg) = doc.get("package").and_then(|p| p.as_table()) {
                d.name = pkg.get("name").and_then(|v| v.as_str()).map(str::to_owned);
                d.description = pkg
                    .get("description")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
            }
            if doc.contains_key("workspace") {
                d.frameworks.insert("cargo-workspace".into());
            }
            for dep in ["axum", "actix-web", "rocket", "leptos", "tauri"] {
                if text.contains(&format!("\n{dep} "))
                    || text.contains(&format!("\n{dep}="))
                    || text.contains(&format!("\n{dep}."))
                {
                    d.frameworks.insert(dep.into());
                }
            }
            let bins: Vec<String> = doc
                .get("bin")
                .and_then(|b| b.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|b| b.get("name")?.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            d.propose(CommandKind::Build, "cargo build", "Cargo.toml");
            d.propose(CommandKind::Test, "cargo test", "Cargo.toml");
            if bins.len() > 1 {
                d.propose(
                    CommandKind::Run,
                    format!("cargo run --bin {}", bins[0]),
                    "Cargo.toml [[bin]]",
                );
            } else if doc.contains_key("package") && (exists(dir, "src/main.rs") || bins.len() == 1)
            {
                d.propose(CommandKind::Run, "cargo run", "Cargo.toml");
            }
        }
        Err(e) => d
            .errors
            .push(format!("Cargo.toml: {}", first_line(&e.to_string()))),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

fn node(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "package.json") else {
        return;
    };
    d.stacks.insert(Stack::Node);
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            d.errors.push(format!("package.json: {e}"));
            return;
        }
    };
    if d.name.is_none() {
        d.name = doc["name"].as_str().map(str::to_owned);
    }
    if d.description.is_none() {
        d.description = doc["description"].as_str().map(str::to_owned);
    }
    let pm = if let Some(field) = doc["packageManager"].as_str() {
        field.split('@').next().unwrap_or("npm").to_owned()
    } else if exists(dir, "pnpm-lock.yaml") {
        "pnpm".into()
    } else if exists(dir, "yarn.lock") {
        "yarn".into()
    } else if exists(dir, "bun.lockb") || exists(dir, "bun.lock") {
        "bun".into()
    } else {
        "npm".into()
    };
    d.frameworks.insert(pm.clone());
    let has_dep = |name: &str| {
        doc["dependencies"].get(name).is_some() || doc["devDependencies"].get(name).is_some()
    };
    for (dep, fw, port) in [
        ("next", "next", 3000),
        ("astro", "astro", 4321),
        ("vite", "vite", 5173),
        ("@sveltejs/kit", "sveltekit", 5173),
        ("nuxt", "nuxt", 3000),
        ("express", "express", 3000),
    ] {
        if has_dep(dep) {
            d.frameworks.insert(fw.into());
            d.port(port);
        }
    }
    if doc["workspaces"].is_array()
        || doc["workspaces"].is_object()
        || exists(dir, "pnpm-workspace.yaml")
    {
        d.frameworks.insert("node-workspaces".into());
    }
    let source = |s: &str| format!("package.json scripts.{s}");
    let run = |script: &str| match pm.as_str() {
        "npm" if script == "test" || script == "start" => format!("npm {script}"),
        "npm" => format!("npm run {script}"),
        other => format!("{other} run {script}"),
    };
    d.propose(
        CommandKind::Install,
        format!("{pm} install"),
        format!("package.json ({pm})"),
    );
    let scripts = doc["scripts"].as_object().cloned().unwrap_or_default();
    if scripts.contains_key("build") {
        d.propose(CommandKind::Build, run("build"), source("build"));
    }
    if scripts.contains_key("test") {
        d.propose(CommandKind::Test, run("test"), source("test"));
    }
    for script in ["dev", "start", "serve"] {
        if scripts.contains_key(script) {
            d.propose(CommandKind::Run, run(script), source(script));
            break;
        }
    }
}

fn deno(dir: &Path, d: &mut Detection) {
    let Some((file, text)) = ["deno.json", "deno.jsonc"]
        .iter()
        .find_map(|f| read(dir, f).map(|t| (*f, t)))
    else {
        return;
    };
    d.stacks.insert(Stack::Deno);
    let stripped: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    match serde_json::from_str::<serde_json::Value>(&stripped) {
        Ok(doc) => {
            if let Some(tasks) = doc["tasks"].as_object() {
                for (task, kind) in [
                    ("dev", CommandKind::Run),
                    ("start", CommandKind::Run),
                    ("build", CommandKind::Build),
                    ("test", CommandKind::Test),
                ] {
                    if tasks.contains_key(task) && !d.has(kind) {
                        d.propose(
                            kind,
                            format!("deno task {task}"),
                            format!("{file} tasks.{task}"),
                        );
                    }
                }
            }
            if !d.has(CommandKind::Test) {
                d.propose(CommandKind::Test, "deno test", file);
            }
        }
        Err(e) => d.errors.push(format!("{file}: {e}")),
    }
}

fn python(dir: &Path, d: &mut Detection) {
    let pyproject = read(dir, "pyproject.toml");
    let requirements = read(dir, "requirements.txt");
    let pipfile = read(dir, "Pipfile");
    if pyproject.is_none()
        && requirements.is_none()
        && pipfile.is_none()
        && !exists(dir, "setup.py")
    {
        return;
    }
    d.stacks.insert(Stack::Python);
    let mut deps_text = String::new();
    let tool = if let Some(text) = &pyproject {
        match text.parse::<toml::Table>() {
            Ok(doc) => {
                let project = doc.get("project").and_then(|p| p.as_table());
                let poetry = doc
                    .get("tool")
                    .and_then(|t| t.get("poetry"))
                    .and_then(|p| p.as_table());
                let meta = project.or(poetry);
                if d.name.is_none() {
                    d.name = meta
                        .and_then(|m| m.get("name"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                }
                if d.description.is_none() {
                    d.description = meta
                        .and_then(|m| m.get("description"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                }
            }
            Err(e) => d
                .errors
                .push(format!("pyproject.toml: {}", first_line(&e.to_string()))),
        }
        deps_text.push_str(text);
        if text.contains("[tool.poetry]") {
            "poetry"
        } else if exists(dir, "uv.lock") || text.contains("[tool.uv]") {
            "uv"
        } else {
            "pip"
        }
    } else if pipfile.is_some() {
        "pipenv"
    } else {
        "pip"
    };
    if let Some(r) = &requirements {
        deps_text.push_str(r);
    }
    if let Some(p) = &pipfile {
        deps_text.push_str(p);
    }
    let deps = deps_text.to_lowercase();
    d.frameworks.insert(tool.into());
    let (install, prefix) = match tool {
        "poetry" => ("poetry install".to_owned(), "poetry run "),
        "uv" => ("uv sync".to_owned(), "uv run "),
        "pipenv" => ("pipenv install".to_owned(), "pipenv run "),
        _ if requirements.is_some() => ("pip install -r requirements.txt".to_owned(), ""),
        _ => ("pip install -e .".to_owned(), ""),
    };
    d.propose(
        CommandKind::Install,
        install,
        if tool == "pip" && requirements.is_some() {
            "requirements.txt"
        } else {
            "pyproject.toml"
        },
    );
    if exists(dir, "manage.py") || deps.contains("django") {
        d.frameworks.insert("django".into());
        d.propose(
            CommandKind::Run,
            format!("{prefix}python manage.py runserver"),
            "manage.py (Django)",
        );
        d.propose(
            CommandKind::Test,
            format!("{prefix}python manage.py test"),
            "manage.py (Django)",
        );
        d.port(8000);
    } else if deps.contains("fastapi") {
        d.frameworks.insert("fastapi".into());
        let module = if exists(dir, "app/main.py") {
            "app.main:app"
        } else {
            "main:app"
        };
        d.propose(
            CommandKind::Run,
            format!("{prefix}uvicorn {module} --reload"),
            "fastapi dependency",
        );
        d.port(8000);
    } else if deps.contains("flask") {
        d.frameworks.insert("flask".into());
        d.propose(
            CommandKind::Run,
            format!("{prefix}flask run"),
            "flask dependency",
        );
        d.port(5000);
    }
    if !d.has(CommandKind::Test) {
        d.propose(
            CommandKind::Test,
            format!("{prefix}pytest"),
            "Python convention",
        );
    }
}

fn go(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "go.mod") else {
        return;
    };
    d.stacks.insert(Stack::Go);
    match text.lines().find_map(|l| l.trim().strip_prefix("module ")) {
        Some(module) => {
            if d.name.is_none() {
                d.name = module.trim().rsplit('/').next().map(str::to_owned);
            }
        }
        None => d.errors.push("go.mod: no module line".into()),
    }
    for (dep, fw) in [
        ("github.com/gin-gonic/gin", "gin"),
        ("github.com/labstack/echo", "echo"),
        ("github.com/gofiber/fiber", "fiber"),
    ] {
        if text.contains(dep) {
            d.frameworks.insert(fw.into());
            d.port(8080);
        }
    }
    d.propose(CommandKind::Install, "go mod download", "go.mod");
    d.propose(CommandKind::Build, "go build ./...", "go.mod");
    d.propose(CommandKind::Test, "go test ./...", "go.mod");
    if exists(dir, "main.go") {
        d.propose(CommandKind::Run, "go run .", "main.go");
    }
}

fn jvm(dir: &Path, d: &mut Detection) {
    if let Some(pom) = read(dir, "pom.xml") {
        d.stacks.insert(Stack::Java);
        d.frameworks.insert("maven".into());
        if pom.contains("kotlin-maven-plugin") {
            d.stacks.insert(Stack::Kotlin);
        }
        if d.name.is_none() {
            d.name = xml_tag(&pom, "artifactId");
        }
        let mvn = if exists(dir, "mvnw") { "./mvnw" } else { "mvn" };
        d.propose(CommandKind::Build, format!("{mvn} package"), "pom.xml");
        d.propose(CommandKind::Test, format!("{mvn} test"), "pom.xml");
        if pom.contains("spring-boot") {
            d.frameworks.insert("spring-boot".into());
            d.propose(
                CommandKind::Run,
                format!("{mvn} spring-boot:run"),
                "pom.xml (Spring Boot)",
            );
            d.port(8080);
        }
    }
    let gradle = read(dir, "build.gradle.kts")
        .map(|t| (true, t))
        .or_else(|| read(dir, "build.gradle").map(|t| (false, t)));
    if let Some((kts, text)) = gradle {
        d.frameworks.insert("gradle".into());
        if kts || text.contains("kotlin(") || text.contains("org.jetbrains.kotlin") {
            d.stacks.insert(Stack::Kotlin);
        }
        if !kts || text.contains("java") {
            d.stacks.insert(Stack::Java);
        }
        let file = if kts {
            "build.gradle.kts"
        } else {
            "build.gradle"
        };
        let gradle = if exists(dir, "gradlew") {
            "./gradlew"
        } else {
            "gradle"
        };
        d.propose(CommandKind::Build, format!("{gradle} build"), file);
        d.propose(CommandKind::Test, format!("{gradle} test"), file);
        if text.contains("application") {
            d.propose(
                CommandKind::Run,
                format!("{gradle} run"),
                format!("{file} (application plugin)"),
            );
        } else if text.contains("org.springframework.boot") {
            d.frameworks.insert("spring-boot".into());
            d.propose(
                CommandKind::Run,
                format!("{gradle} bootRun"),
                format!("{file} (Spring Boot)"),
            );
            d.port(8080);
        }
    }
}

fn xml_tag(text: &str, tag: &str) -> Option<String> {
    // The project's own artifactId is the first one outside <parent>.
    let body = match (text.find("<parent>"), text.find("</parent>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &text[..a], &text[b..]),
        _ => text.to_owned(),
    };
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find('<')? + start;
    Some(body[start..end].trim().to_owned()).filter(|s| !s.is_empty())
}

fn ruby(dir: &Path, d: &mut Detection) {
    let Some(gemfile) = read(dir, "Gemfile") else {
        return;
    };
    d.stacks.insert(Stack::Ruby);
    d.frameworks.insert("bundler".into());
    d.propose(CommandKind::Install, "bundle install", "Gemfile");
    if gemfile.contains("'rails'")
        || gemfile.contains("\"rails\"")
        || exists(dir, "config/application.rb")
    {
        d.frameworks.insert("rails".into());
        d.propose(CommandKind::Run, "bin/rails server", "Gemfile (Rails)");
        d.propose(CommandKind::Test, "bin/rails test", "Gemfile (Rails)");
        d.port(3000);
    } else if gemfile.contains("rspec") {
        d.propose(CommandKind::Test, "bundle exec rspec", "Gemfile (rspec)");
    } else {
        d.propose(CommandKind::Test, "bundle exec rake test", "Gemfile");
    }
}

fn php(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "composer.json") else {
        return;
    };
    d.stacks.insert(Stack::Php);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(doc) => {
            if d.name.is_none() {
                d.name = doc["name"]
                    .as_str()
                    .and_then(|n| n.rsplit('/').next())
                    .map(str::to_owned);
            }
            if d.description.is_none() {
                d.description = doc["description"].as_str().map(str::to_owned);
            }
        }
        Err(e) => d.errors.push(format!("composer.json: {e}")),
    }
    d.frameworks.insert("composer".into());
    d.propose(CommandKind::Install, "composer install", "composer.json");
    if exists(dir, "artisan") {
        d.frameworks.insert("laravel".into());
        d.propose(CommandKind::Run, "php artisan serve", "artisan (Laravel)");
        d.propose(CommandKind::Test, "php artisan test", "artisan (Laravel)");
        d.port(8000);
    } else if exists(dir, "phpunit.xml") || exists(dir, "phpunit.xml.dist") {
        d.propose(CommandKind::Test, "vendor/bin/phpunit", "phpunit.xml");
    }
}

fn dotnet(dir: &Path, d: &mut Detection) {
    if !has_dotnet_project(dir) {
        return;
    }
    d.stacks.insert(Stack::Dotnet);
    d.propose(CommandKind::Install, "dotnet restore", ".NET project");
    d.propose(CommandKind::Build, "dotnet build", ".NET project");
    d.propose(CommandKind::Test, "dotnet test", ".NET project");
    d.propose(CommandKind::Run, "dotnet run", ".NET project");
}

fn elixir(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "mix.exs") else {
        return;
    };
    d.stacks.insert(Stack::Elixir);
    d.propose(CommandKind::Install, "mix deps.get", "mix.exs");
    d.propose(CommandKind::Build, "mix compile", "mix.exs");
    d.propose(CommandKind::Test, "mix test", "mix.exs");
    if text.contains(":phoenix") {
        d.frameworks.insert("phoenix".into());
        d.propose(CommandKind::Run, "mix phx.server", "mix.exs (Phoenix)");
        d.port(4000);
    }
    if d.name.is_none() {
        d.name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("app: :"))
            .map(|s| s.trim_end_matches(',').trim().to_owned());
    }
}

fn docker(dir: &Path, d: &mut Detection) {
    if exists(dir, "Dockerfile") {
        d.stacks.insert(Stack::Docker);
    }
    for file in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ] {
        if exists(dir, file) {
            d.stacks.insert(Stack::Docker);
            d.frameworks.insert("compose".into());
            if !d.has(CommandKind::Run) {
                d.propose(CommandKind::Run, "docker compose up", file);
            }
            break;
        }
    }
}

fn procfile(dir: &Path, d: &mut Detection) {
    let Some(text) = read(dir, "Procfile") else {
        return;
    };
    d.frameworks.insert("procfile".into());
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((name, cmd)) if !cmd.trim().is_empty() => {
                // A Procfile names what actually runs: it wins over framework defaults.
                let proposal = ProposedCommand {
                    kind: CommandKind::Run,
                    command: cmd.trim().to_owned(),
                    cwd: ".".into(),
                    source: format!("Procfile {}", name.trim()),
                };
                if name.trim() == "web" {
                    d.commands.retain(|c| c.kind != CommandKind::Run);
                    d.commands.insert(0, proposal);
                } else {
                    d.commands.push(proposal);
                }
            }
            _ => d
                .errors
                .push(format!("Procfile: cannot read line `{line}`")),
        }
    }
}

fn make_and_just(dir: &Path, d: &mut Detection) {
    let makefile = ["Makefile", "makefile", "GNUmakefile"]
        .iter()
        .find_map(|f| read(dir, f).map(|t| (*f, t)));
    if let Some((file, text)) = makefile {
        d.frameworks.insert("make".into());
        let targets = make_targets(&text);
        for (target, kind) in [
            ("install", CommandKind::Install),
            ("build", CommandKind::Build),
            ("test", CommandKind::Test),
            ("run", CommandKind::Run),
            ("dev", CommandKind::Run),
        ] {
            if targets.iter().any(|t| t == target) && !d.has(kind) {
                d.propose(
                    kind,
                    format!("make {target}"),
                    format!("{file} target {target}"),
                );
            }
        }
    }
    if let Some(text) = read(dir, "justfile").or_else(|| read(dir, "Justfile")) {
        d.frameworks.insert("just".into());
        let recipes = make_targets(&text);
        for (recipe, kind) in [
            ("install", CommandKind::Install),
            ("build", CommandKind::Build),
            ("test", CommandKind::Test),
            ("run", CommandKind::Run),
            ("dev", CommandKind::Run),
        ] {
            if recipes.iter().any(|t| t == recipe) && !d.has(kind) {
                d.propose(
                    kind,
                    format!("just {recipe}"),
                    format!("justfile recipe {recipe}"),
                );
            }
        }
    }
}

/// Target (or recipe) names: lines `name:` or `name args:` at column 0.
fn make_targets(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '.']))
        .filter_map(|l| l.split_once(':').map(|(head, _)| head))
        .filter(|head| !head.contains('='))
        .filter_map(|head| head.split_whitespace().next())
        .filter(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

/// A component entry for a nested manifest folder.
pub fn component(root: &Path, dir: &Path) -> Option<Component> {
    let rel = dir
        .strip_prefix(root)
        .ok()?
        .to_string_lossy()
        .replace('\\', "/");
    let found = detect(dir);
    if found.stacks.is_empty() {
        return None;
    }
    Some(Component {
        name: found
            .name
            .clone()
            .unwrap_or_else(|| rel.rsplit('/').next().unwrap_or(&rel).to_owned()),
        path: rel,
        stacks: found.stacks.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree(files: &[(&str, &str)]) -> tempfile_dir::Dir {
        let dir = tempfile_dir::Dir::new();
        for (path, body) in files {
            let p = dir.path().join(path);
            if let Some(parent) = p.parent() {
                let _ = fs::create_dir_all(parent);
            }
            let _ = fs::write(p, body);
        }
        dir
    }

    /// A throwaway folder without an extra dependency.
    mod tempfile_dir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let p =
                    std::env::temp_dir().join(format!("optimus-detect-{}", uuid::Uuid::new_v4()));
                let _ = std::fs::create_dir_all(&p);
                Self(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn cmd(d: &Detection, kind: CommandKind) -> Option<String> {
        d.commands
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| c.command.clone())
    }

    #[test]
    fn a_vite_app_with_pnpm_runs_its_dev_script() {
        let t = tree(&[
            (
                "package.json",
                r#"{"name":"web","scripts":{"dev":"vite","build":"vite build","test":"vitest"},"devDependencies":{"vite":"^5"}}"#,
            ),
            ("pnpm-lock.yaml", ""),
        ]);
        let d = detect(t.path());
        assert_eq!(
            d.stacks.iter().copied().collect::<Vec<_>>(),
            vec![Stack::Node]
        );
        assert!(d.frameworks.contains("vite") && d.frameworks.contains("pnpm"));
        assert_eq!(
            cmd(&d, CommandKind::Install).as_deref(),
            Some("pnpm install")
        );
        assert_eq!(cmd(&d, CommandKind::Run).as_deref(), Some("pnpm run dev"));
        assert_eq!(d.port, Some(5173));
        assert_eq!(d.name.as_deref(), Some("web"));
    }

    #[test]
    fn a_broken_manifest_is_reported_not_swallowed() {
        let t = tree(&[("package.json", "{ not json")]);
        let d = detect(t.path());
        assert!(d.stacks.contains(&Stack::Node));
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].starts_with("package.json"));
    }

    #[test]
    fn a_procfile_web_line_wins_over_framework_defaults() {
        let t = tree(&[
            ("Gemfile", "gem 'rails'\n"),
            (
                "Procfile",
                "web: bundle exec puma -p $PORT\nworker: bundle exec sidekiq\n",
            ),
        ]);
        let d = detect(t.path());
        assert_eq!(
            cmd(&d, CommandKind::Run).as_deref(),
            Some("bundle exec puma -p $PORT")
        );
        assert!(d.commands.iter().any(|c| c.source == "Procfile worker"));
    }

    #[test]
    fn kotlin_gradle_and_django_and_go_are_recognised() {
        let k = tree(&[
            (
                "build.gradle.kts",
                "plugins { kotlin(\"jvm\") version \"2.0.0\"\n application }\n",
            ),
            ("gradlew", ""),
        ]);
        let d = detect(k.path());
        assert!(d.stacks.contains(&Stack::Kotlin));
        assert_eq!(cmd(&d, CommandKind::Run).as_deref(), Some("./gradlew run"));

        let p = tree(&[("manage.py", ""), ("requirements.txt", "Django==5.0\n")]);
        let d = detect(p.path());
        assert!(d.frameworks.contains("django"));
        assert_eq!(
            cmd(&d, CommandKind::Run).as_deref(),
            Some("python manage.py runserver")
        );

        let g = tree(&[
            ("go.mod", "module example.com/acme/api\n\ngo 1.22\n"),
            ("main.go", "package main"),
        ]);
        let d = detect(g.path());
        assert_eq!(d.name.as_deref(), Some("api"));
        assert_eq!(cmd(&d, CommandKind::Test).as_deref(), Some("go test ./..."));
    }

    #[test]
    fn makefile_targets_fill_in_missing_commands() {
        assert_eq!(
            make_targets("build:\n\tcc x\ntest: build\n\t./t\nX = 1\n.PHONY: all\n"),
            vec!["build", "test"]
        );
        let t = tree(&[("Makefile", "run:\n\t./serve\n")]);
        assert_eq!(
            cmd(&detect(t.path()), CommandKind::Run).as_deref(),
            Some("make run")
        );
    }
}
