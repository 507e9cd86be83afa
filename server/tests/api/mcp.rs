//! The MCP server at `/api/v1/mcp`, spoken to as an MCP client does (JSON-RPC over HTTP POST,
//! `initialize`, `notifications/initialized`, `tools/list`, `tools/call`), with API tokens of
//! different scopes: each tool is allowed or refused exactly as its JSON API endpoint, acts on a
//! real service, and is audited.

use crate::helpers::{eventually, own_ports, spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

async fn rpc(app: &TestApp, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}/api/v1/mcp", app.addr))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("send");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn call(app: &TestApp, token: &str, name: &str, arguments: Value) -> Value {
    let (status, body) = rpc(
        app,
        Some(token),
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 7);
    body["result"].clone()
}

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn agents_use_optimus_through_mcp_within_their_tokens_scopes() {
    let app = spawn_app_with(own_ports).await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let reader = app.api_token(&owner, &["read"]).await;
    let writer = app.api_token(&owner, &["read", "write"]).await;

    // No credentials: 401, saying how to authenticate.
    let res = app
        .client
        .post(format!("{}/api/v1/mcp", app.addr))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));

    // A web page of another site may not drive it, even with the caller's credentials.
    let res = app
        .client
        .post(format!("{}/api/v1/mcp", app.addr))
        .bearer_auth(&reader)
        .header("origin", "http://evil.example")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Optimus's own pages may.
    let res = app
        .client
        .post(format!("{}/api/v1/mcp", app.addr))
        .bearer_auth(&reader)
        .header("origin", app.addr.clone())
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);

    // The handshake.
    let (status, init) = rpc(
        &app,
        Some(&reader),
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    let (status, _) = rpc(
        &app,
        Some(&reader),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Each token sees the tools it may call.
    let (_, list) = rpc(
        &app,
        Some(&reader),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let seen = names(&list);
    assert!(seen.contains(&"list_projects".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"start_service".to_owned()), "{seen:?}");
    let (_, list) = rpc(
        &app,
        Some(&writer),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
    )
    .await;
    let seen = names(&list);
    assert!(seen.contains(&"start_service".to_owned()), "{seen:?}");
    assert!(
        !seen.contains(&"deploy".to_owned()),
        "deploy needs the deploy scope: {seen:?}"
    );
    let start = list["result"]["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "start_service"))
        .expect("start_service")
        .clone();
    assert_eq!(start["inputSchema"]["type"], "object", "{start}");
    assert!(
        start["inputSchema"]["properties"]["id"].is_object(),
        "{start}"
    );
    assert_eq!(start["annotations"]["readOnlyHint"], false);

    // A project with a service, made through the JSON API.
    let dir = tempfile::tempdir().expect("tempdir");
    let project = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .expect("project");
    let made = app
        .post_anon(
            "services/create",
            json!({"project_id": project, "definition": {"name": "ticker", "command": "echo up; while true; do sleep 0.2; done"}}),
            Some(&owner),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let service = made.body["id"].as_i64().expect("service");

    let listed = call(&app, &reader, "list_projects", json!({})).await;
    assert_eq!(listed["isError"], false, "{listed}");
    assert!(listed["content"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains(&dir.path().display().to_string())));

    // Refused as the endpoint refuses it: the reader's token lacks `write`; nothing starts.
    let refused = call(&app, &reader, "start_service", json!({"id": service})).await;
    assert_eq!(refused["isError"], true, "{refused}");
    let why = refused["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("403") && why.contains("`write` scope"),
        "{why}"
    );
    let state = app
        .post_anon("services/get", json!({"id": service}), Some(&owner))
        .await
        .body["state"]
        .clone();
    assert_ne!(state, "running");
    assert_ne!(state, "ready");

    // Bad input: the endpoint's own 400/422 naming the field.
    let bad = call(&app, &writer, "start_service", json!({"id": "seven"})).await;
    assert_eq!(bad["isError"], true, "{bad}");
    assert_eq!(bad["structuredContent"]["field"], "id", "{bad}");
    assert!(
        bad["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("400") && t.contains("id:")),
        "{bad}"
    );

    // Allowed: it really starts, and reading its logs shows it.
    let started = call(&app, &writer, "start_service", json!({"id": service})).await;
    assert_eq!(started["isError"], false, "{started}");
    eventually(Duration::from_secs(15), "the service logs `up`", || async {
        let logs = call(
            &app,
            &reader,
            "read_logs",
            json!({"service_ids": [service]}),
        )
        .await;
        logs["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("up"))
            .then_some(())
    })
    .await;
    let stopped = call(&app, &writer, "stop_service", json!({"id": service})).await;
    assert_eq!(stopped["isError"], false, "{stopped}");

    // The council answers an agent too.
    let answer = call(
        &app,
        &writer,
        "ask_council",
        json!({"question": "Ship the ticker?"}),
    )
    .await;
    assert_eq!(answer["isError"], false, "{answer}");
    assert!(
        answer["structuredContent"]["consensus"].is_object(),
        "{answer}"
    );

    // Protocol errors.
    let (_, unknown) = rpc(
        &app,
        Some(&writer),
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "format_disk"}}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let (_, no_method) = rpc(
        &app,
        Some(&writer),
        json!({"jsonrpc": "2.0", "id": 10, "method": "resources/list"}),
    )
    .await;
    assert_eq!(no_method["error"]["code"], -32601, "{no_method}");

    // Every tool call is audited with its outcome.
    let audit = app
        .post_anon("audit/list", json!({"action": "mcp.call"}), Some(&owner))
        .await;
    let items = audit.body["items"].as_array().cloned().unwrap_or_default();
    let line = |tool: &str, outcome: &str| {
        items
            .iter()
            .any(|i| i["target"] == format!("tool:{tool}") && i["outcome"] == outcome)
    };
    assert!(line("start_service", "error 403"), "{items:?}");
    assert!(line("start_service", "ok"), "{items:?}");
    assert!(line("list_projects", "ok"), "{items:?}");
    // The endpoint's own entry names the caller's address, as a direct call's would.
    let started = app
        .post_anon(
            "audit/list",
            json!({"action": "services.start"}),
            Some(&owner),
        )
        .await;
    let entry = &started.body["items"][0];
    assert_eq!(entry["outcome"], "ok", "{entry}");
    assert!(
        entry["client_addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1")),
        "{entry}"
    );
}
