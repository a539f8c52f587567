//! Search (`GET /api/v1/search`): an organization's conversations, by what their messages say,
//! and its contacts, by name, email, phone or company. Agents only: results include internal
//! notes, so no visitor path reaches it.

use super::auth::CurrentAgent;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use frontdesk_core::ErrorCode;
use frontdesk_core::search::{SearchParams, SearchQuery, SearchResults, search_limit};

pub async fn search(
    State(s): State<AppState>,
    CurrentAgent(a): CurrentAgent,
    q: Result<Query<SearchParams>, QueryRejection>,
) -> ApiResult<Json<SearchResults>> {
    let Query(p) = q.map_err(|e| ApiError::new(ErrorCode::InvalidSearch, e.body_text()))?;
    let query = SearchQuery::parse(p.q.as_deref().unwrap_or(""))?;
    let limit = search_limit(&p)?;
    Ok(Json(
        s.store.search(&a.organization_id, &query, limit).await?,
    ))
}
