//! Agents' sessions: login with an Argon2id password, a random session token in an HttpOnly,
//! SameSite=Strict cookie, stored hashed.

use super::{JsonBody, check_origin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::tokens::{hash_token, random_token};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::protocol::{AgentView, LoginRequest, Role, StatusRequest};
use frontdesk_core::{Email, ErrorCode, Password};
use frontdesk_store::now_ms;

pub const COOKIE: &str = "fd_session";

/// Hashes a password with Argon2id, off the async threads.
pub async fn hash_password(p: &Password) -> anyhow::Result<String> {
    let p = p.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Argon2::default()
            .hash_password(p.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A real hash to verify against when the email is unknown, so that a login takes as long
/// whether or not the account exists.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::encode_b64(&[7u8; 16]).expect("16 bytes encode");
    Argon2::default()
        .hash_password(b"not a password anyone has", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// The agent behind the session cookie. For methods that change state it also checks the
/// request's `Origin` (CSRF).
pub struct CurrentAgent(pub AgentView);

impl FromRequestParts<AppState> for CurrentAgent {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            check_origin(&parts.headers, &s.config.public_url)?;
        }
        agent_from_cookie(s, &parts.headers).await
    }
}

pub async fn agent_from_cookie(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<CurrentAgent, ApiError> {
    let token = session_cookie(headers).ok_or_else(ApiError::unauthenticated)?;
    match s.store.session_agent(&hash_token(&token)).await? {
        Some(a) => Ok(CurrentAgent(a)),
        None => Err(ApiError::unauthenticated()),
    }
}

/// Admins only.
pub fn require_admin(a: &AgentView) -> ApiResult<()> {
    if a.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admins may do this"))
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Starts a session for `agent` and returns its Set-Cookie value.
pub async fn start_session(s: &AppState, agent: &AgentView) -> ApiResult<HeaderValue> {
    let token = random_token();
    let max_age = s.config.session_days * 86_400;
    s.store
        .create_session(
            &hash_token(&token),
            &agent.id,
            now_ms() + (max_age as i64) * 1000,
        )
        .await?;
    let secure = if s.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(ApiError::internal)
}

pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    check_origin(&headers, &s.config.public_url)?;
    let bad = || ApiError::new(ErrorCode::InvalidCredentials, "wrong email or password");
    let email = Email::parse(&req.email).map_err(|_| bad())?;
    if req.password.len() > 1024 {
        return Err(bad());
    }
    let creds = s.store.agent_credentials(&email).await?;
    let hash = creds
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = verify_password(req.password, hash).await;
    let Some(creds) = creds.filter(|_| ok) else {
        return Err(bad());
    };
    let cookie = start_session(&s, &creds.agent).await?;
    // Logging in is coming back: an agent set away only because they were gone is online
    // again (their dashboard's socket renews the lease in a moment).
    let agent = if s
        .store
        .return_from_auto_away(&creds.agent.id, now_ms())
        .await?
    {
        s.bus.publish(crate::bus::Event::AgentStatus {
            org: creds.agent.organization_id.clone(),
            agent: creds.agent.id.clone(),
            status: frontdesk_core::protocol::AgentStatus::Online,
        });
        s.store.agent(&creds.agent.id).await?.unwrap_or(creds.agent)
    } else {
        creds.agent
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(agent)).into_response())
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    check_origin(&headers, &s.config.public_url)?;
    if let Some(token) = session_cookie(&headers) {
        s.store.delete_session(&hash_token(&token)).await?;
    }
    let clear =
        HeaderValue::from_static("fd_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

pub async fn me(CurrentAgent(a): CurrentAgent) -> Json<AgentView> {
    Json(a)
}

pub async fn set_status(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    JsonBody(req): JsonBody<StatusRequest>,
) -> ApiResult<Json<AgentView>> {
    s.store.set_agent_status(&a.id, req.status).await?;
    s.bus.publish(crate::bus::Event::AgentStatus {
        org: a.organization_id.clone(),
        agent: a.id.clone(),
        status: req.status,
    });
    // Going away may hand the agent's chats back: all of them when they ask, otherwise as
    // each team's `away_action` says.
    if req.status == frontdesk_core::protocol::AgentStatus::Away {
        let me = frontdesk_core::conversation::AgentRef {
            id: a.id.clone(),
            name: a.name.clone(),
        };
        crate::routing::release(&s, &a.organization_id, &me, req.release).await?;
    }
    s.router.poke(&a.organization_id);
    let a = s
        .store
        .agent(&a.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(a))
}

/// Supervisors and admins.
pub fn require_supervisor(a: &AgentView) -> ApiResult<()> {
    if a.role == Role::Agent {
        Err(ApiError::forbidden(
            "only supervisors and admins may do this",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let p = Password::parse("correct horse").unwrap();
        let h = hash_password(&p).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), h.clone()).await);
        assert!(!verify_password("wrong horse".into(), h).await);
        assert!(!verify_password("x".into(), DUMMY_HASH.clone()).await);
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; fd_session=tok; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h).as_deref(), Some("tok"));
    }
}
