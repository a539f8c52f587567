//! First run: while nobody has an account, the server prints a one-time setup URL. Its page
//! posts here to create the organization, the first admin and the first website.

use super::{JsonBody, base_url, check_origin};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::tokens::{constant_time_eq, hash_token, random_token, site_key};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::protocol::{SetupRequest, SetupResponse, SetupStatus, WebsiteView};
use frontdesk_core::{Domain, Email, ErrorCode, Name, Password};
use frontdesk_store::{StoreError, Website};

const SETUP_TOKEN: &str = "setup_token_hash";
const SETUP_DONE: &str = "setup_done";

/// If nobody can log in yet, makes a fresh one-time setup token and returns it.
pub async fn prepare(s: &frontdesk_store::Store) -> anyhow::Result<Option<String>> {
    if s.agent_count().await? > 0 {
        return Ok(None);
    }
    let token = random_token();
    s.delete_setting(SETUP_TOKEN).await?;
    s.setting_or_insert(SETUP_TOKEN, &hash_token(&token))
        .await?;
    Ok(Some(token))
}

pub fn website_view(w: &Website, base: &str) -> WebsiteView {
    WebsiteView {
        id: w.id.clone(),
        name: w.name.clone(),
        domain: w.domain.clone(),
        site_key: w.site_key.clone(),
        snippet: snippet(base, &w.site_key),
    }
}

pub fn snippet(base: &str, key: &str) -> String {
    format!(r#"<script async src="{base}/widget.js" data-site="{key}"></script>"#)
}

pub async fn status(State(s): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus {
        needs_setup: s.store.agent_count().await? == 0,
    }))
}

pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SetupRequest>,
) -> ApiResult<Response> {
    check_origin(&headers, &s.config.public_url)?;
    if s.store.setting(SETUP_DONE).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::SetupDone,
            "this server is already set up; log in instead",
        ));
    }
    let expected = s.store.setting(SETUP_TOKEN).await?;
    if !expected.is_some_and(|h| constant_time_eq(&h, &hash_token(&req.token))) {
        return Err(ApiError::new(
            ErrorCode::InvalidSetupToken,
            "this setup link is not valid; use the one the server printed when it started",
        ));
    }
    let org = Name::parse(&req.organization_name)?;
    let name = Name::parse(&req.name)?;
    let email = Email::parse(&req.email)?;
    let password = Password::parse(&req.password)?;
    let site_name = Name::parse(&req.website_name)?;
    let domain = Domain::parse(&req.website_domain)?;
    let hash = super::auth::hash_password(&password)
        .await
        .map_err(ApiError::internal)?;
    let (agent, website) = match s
        .store
        .create_organization(
            &org,
            (&email, &name, &hash),
            (&site_name, &domain, &site_key()),
            Some(SETUP_DONE),
        )
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::new(
                ErrorCode::SetupDone,
                "this server is already set up; log in instead",
            ));
        }
        r => r?,
    };
    s.store.delete_setting(SETUP_TOKEN).await?;
    tracing::info!(organization = %org.as_str(), admin = %email.as_str(), "first-run setup done");
    let cookie = super::auth::start_session(&s, &agent).await?;
    let body = SetupResponse {
        website: website_view(&website, &base_url(&s.config, &headers)),
        agent,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}
