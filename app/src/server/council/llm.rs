//! The LLM engine: an OpenAI-compatible chat-completions client (OpenAI, Ollama, vLLM, llama.cpp
//! servers). Each persona is asked for a structured position as JSON against a schema, streamed;
//! 429 and 5xx answers are retried with backoff; every request has a timeout; a deliberation has
//! a token budget; an answer that is not valid JSON is repaired when it can be (code fences,
//! prose around the object), asked for once more when it cannot, and otherwise the persona
//! abstains. The API key is sent only in the `Authorization` header: never logged, never returned.

use super::{Context, Engine};
use crate::models::council::{PersonaInfo, Turn};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Retries after a 429 or 5xx answer.
const RETRIES: u32 = 3;
/// The longest completion asked for per turn.
const MAX_TOKENS: u64 = 700;

/// One deliberation's client (the token budget is per deliberation).
pub struct Llm {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
    budget: u64,
    spent: Arc<AtomicU64>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Pulls a JSON object out of a model's text: as is, inside a code fence, or the outermost
/// `{…}` in prose.
pub fn extract_json(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    let (start, end) = (t.find('{')?, t.rfind('}')?);
    (start < end)
        .then(|| serde_json::from_str::<Value>(&t[start..=end]).ok())
        .flatten()
        .filter(Value::is_object)
}

/// The concatenated `delta.content` of a streamed (server-sent events) answer, and the
/// `usage.total_tokens` when the server reports it. A plain JSON answer works too.
pub fn read_stream(body: &str) -> (String, Option<u64>) {
    let mut content = String::new();
    let mut tokens = None;
    let mut streamed = false;
    for line in body.lines() {
        let Some(data) = line.trim().strip_prefix("data:") else {
            continue;
        };
        streamed = true;
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        if let Ok(v) = serde_json::from_str::<Value>(data) {
            if let Some(c) = v["choices"][0]["delta"]["content"].as_str() {
                content.push_str(c);
            }
            if let Some(n) = v["usage"]["total_tokens"].as_u64() {
                tokens = Some(n);
            }
        }
    }
    if !streamed {
        if let Ok(v) = serde_json::from_str::<Value>(body) {
            content = v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            tokens = v["usage"]["total_tokens"].as_u64();
        }
    }
    (content, tokens)
}

/// The turn a model's JSON describes, checked against the options and the evidence.
pub fn turn_from(persona: &str, round: u8, v: &Value, ctx: &Context<'_>) -> Result<Turn, String> {
    let raw = v["option"].as_str().ok_or("no `option` in the answer")?;
    let option = ctx
        .options
        .iter()
        .find(|o| o.id == raw || o.label.eq_ignore_ascii_case(raw))
        .map(|o| o.id.clone())
        .ok_or_else(|| format!("`{raw}` is not one of the options"))?;
    let confidence = v["confidence"]
        .as_f64()
        .ok_or("no numeric `confidence` in the answer")?
        .clamp(0.0, 1.0);
    let list = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(|s| s.chars().take(500).collect()))
                    .take(8)
                    .collect()
            })
            .unwrap_or_default()
    };
    let evidence: Vec<String> = list("evidence")
        .into_iter()
        .filter(|id| ctx.evidence.iter().any(|e| &e.id == id))
        .collect();
    Ok(Turn {
        persona: persona.to_owned(),
        round,
        option: Some(option),
        confidence: (confidence * 100.0).round() / 100.0,
        rationale: v["rationale"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(4000)
            .collect(),
        concerns: list("concerns"),
        conditions: list("conditions"),
        evidence,
        abstained: false,
        error: None,
    })
}

fn schema(ctx: &Context<'_>) -> Value {
    let ids: Vec<&str> = ctx.options.iter().map(|o| o.id.as_str()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["option", "confidence", "rationale", "concerns", "conditions", "evidence"],
        "properties": {
            "option": {"type": "string", "enum": ids},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"},
            "concerns": {"type": "array", "items": {"type": "string"}},
            "conditions": {"type": "array", "items": {"type": "string"}},
            "evidence": {"type": "array", "items": {"type": "string"}}
        }
    })
}

fn system_prompt(p: &PersonaInfo) -> String {
    format!(
        "You are the {name} of a council that advises a software team. {role} Your expertise: {domains}. \
         Your leaning: {stance}. Decide only from the evidence you are given; cite the ids of the \
         evidence items you rely on (like E3) in `evidence` and in brackets in your rationale. \
         Give a calibrated confidence between 0 and 1: high only when the evidence is clear. \
         Answer with one JSON object that matches the schema, and nothing else.",
        name = p.name,
        role = p.role,
        domains = p.domains.join(", "),
        stance = p.stance
    )
}

fn user_prompt(ctx: &Context<'_>, others: Option<&[(String, f64)]>) -> String {
    let mut s = format!("Question: {}\n\nOptions (use the id):\n", ctx.question);
    for o in ctx.options {
        s.push_str(&format!("- {}: {}\n", o.id, o.label));
    }
    let f = ctx.frame;
    s.push_str(&format!(
        "\nKind of decision: {} ({}).\n",
        f.recognised.kind.noun(),
        f.recognised.why
    ));
    if !f.missing.is_empty() {
        s.push_str(&format!(
            "Missing evidence (it lowers confidence; it is not by itself a reason against): {}.\n",
            f.missing
                .iter()
                .map(|(_, w)| *w)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.push_str("\nEvidence:\n");
    for e in ctx.evidence {
        s.push_str(&format!(
            "- {} ({}, {}): {}\n",
            e.id, e.source, e.signal, e.summary
        ));
    }
    if let Some(others) = others {
        s.push_str("\nThe other council members (anonymised) chose:\n");
        for (o, c) in others {
            s.push_str(&format!("- {o} with confidence {c:.2}\n"));
        }
        s.push_str("\nYou may revise your position once, or keep it.\n");
    }
    s
}

impl Llm {
    /// A client for one deliberation, from the settings.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        model: &str,
        timeout: Duration,
        budget: u64,
    ) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: model.to_owned(),
            timeout,
            budget,
            spent: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Tokens spent so far in this deliberation.
    pub fn spent(&self) -> u64 {
        self.spent.load(Ordering::Relaxed)
    }

    /// One chat completion (streamed), retried on 429/5xx; returns the content. A client span
    /// in OpenTelemetry's GenAI terms when traces are exported.
    #[tracing::instrument(
        name = "llm.chat",
        skip_all,
        fields(
            otel.name = %format_args!("chat {model}"),
            otel.kind = "client",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = %model,
            gen_ai.usage.total_tokens = tracing::field::Empty,
        )
    )]
    async fn complete(
        &self,
        model: &str,
        messages: &[Value],
        schema: &Value,
    ) -> Result<String, String> {
        if self.spent() >= self.budget {
            return Err(format!(
                "the deliberation's token budget ({}) is spent",
                self.budget
            ));
        }
        let body = json!({
            "model": model,
            "messages": messages,
            "temperature": 0.2,
            "max_tokens": MAX_TOKENS,
            "stream": true,
            "stream_options": {"include_usage": true},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "position", "strict": true, "schema": schema}
            }
        });
        let url = format!("{}/chat/completions", self.base_url);
        let mut attempt = 0;
        loop {
            let mut req = self.http.post(&url).json(&body);
            if let Some(k) = &self.api_key {
                req = req.bearer_auth(k);
            }
            let res = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    return Err(format!("no answer within {} ms", self.timeout.as_millis()))
                }
                Err(e) => {
                    return Err(format!(
                        "the model server could not be reached ({})",
                        e.without_url()
                    ))
                }
            };
            let status = res.status();
            if status.as_u16() == 429 || status.is_server_error() {
                attempt += 1;
                if attempt > RETRIES {
                    return Err(format!(
                        "the model server answered {status} {RETRIES} times"
                    ));
                }
                let wait = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(10)))
                    .unwrap_or_else(|| Duration::from_millis(200 << attempt));
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                return Err(format!("the model server answered {status}"));
            }
            let text = match res.text().await {
                Ok(t) => t,
                Err(e) if e.is_timeout() => {
                    return Err(format!("no answer within {} ms", self.timeout.as_millis()))
                }
                Err(e) => {
                    return Err(format!(
                        "the answer could not be read ({})",
                        e.without_url()
                    ))
                }
            };
            let (content, tokens) = read_stream(&text);
            let used = tokens.unwrap_or_else(|| (text.len() as u64) / 4 + MAX_TOKENS / 4);
            self.spent.fetch_add(used, Ordering::Relaxed);
            // Signed: unsigned values reach a trace as text.
            tracing::Span::current().record(
                "gen_ai.usage.total_tokens",
                i64::try_from(used).unwrap_or(i64::MAX),
            );
            return Ok(content);
        }
    }

    /// Asks, repairs, asks once more if needed, or gives up with the reason.
    async fn ask(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
        round: u8,
        others: Option<&[(String, f64)]>,
    ) -> Result<Turn, String> {
        let model = persona.model.clone().unwrap_or_else(|| self.model.clone());
        let schema = schema(ctx);
        let mut messages = vec![
            json!({"role": "system", "content": system_prompt(persona)}),
            json!({"role": "user", "content": user_prompt(ctx, others)}),
        ];
        let first = self.complete(&model, &messages, &schema).await?;
        let problem = match extract_json(&first).map(|v| turn_from(&persona.key, round, &v, ctx)) {
            Some(Ok(t)) => return Ok(t),
            Some(Err(why)) => why,
            None => "the answer was not a JSON object".to_owned(),
        };
        messages.push(json!({"role": "assistant", "content": first}));
        messages.push(json!({"role": "user", "content": format!(
            "That answer cannot be used: {problem}. Answer again with only the JSON object for the schema."
        )}));
        let second = self.complete(&model, &messages, &schema).await?;
        extract_json(&second)
            .ok_or_else(|| "the model's answers were not valid JSON".to_owned())
            .and_then(|v| turn_from(&persona.key, round, &v, ctx))
    }
}

impl Engine for Llm {
    fn name(&self) -> &'static str {
        "llm"
    }

    fn position(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
    ) -> impl std::future::Future<Output = Result<Turn, String>> + Send {
        self.ask(persona, ctx, 1, None)
    }

    fn revise(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
        _own: &Turn,
        others: &[(String, f64)],
    ) -> impl std::future::Future<Output = Result<Turn, String>> + Send {
        let others = others.to_vec();
        async move { self.ask(persona, ctx, 2, Some(&others)).await }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_fences_and_prose_but_not_invented() {
        assert!(extract_json("{\"option\":\"defer\"}").is_some());
        assert!(extract_json("```json\n{\"option\":\"defer\"}\n```").is_some());
        assert!(
            extract_json("Sure! Here it is: {\"option\": \"defer\"} Hope that helps.").is_some()
        );
        assert!(extract_json("I think we should defer.").is_none());
        assert!(extract_json("{not json}").is_none());
    }

    #[test]
    fn streamed_deltas_are_joined_and_usage_read() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"{\\\"a\\\"\"}}]}\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\":1}\"}}]}\n\n\
                    data: {\"choices\":[],\"usage\":{\"total_tokens\":42}}\n\n\
                    data: [DONE]\n\n";
        assert_eq!(read_stream(body), ("{\"a\":1}".to_owned(), Some(42)));
        let plain =
            "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"total_tokens\":7}}";
        assert_eq!(read_stream(plain), ("hi".to_owned(), Some(7)));
    }
}
