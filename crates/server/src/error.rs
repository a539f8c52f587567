//! The one error type of the HTTP API and the socket: each variant maps to a status and a
//! stable code. A 4xx says what was wrong; a 5xx says only that something failed, and the cause
//! goes to the log.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use frontdesk_core::protocol::Problem;
use frontdesk_core::{ErrorCode, InputError, TransitionError};
use frontdesk_store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        use ErrorCode::*;
        match self.code {
            MessageEmpty | MessageTooLong | InvalidClientId | InvalidName | InvalidEmail
            | InvalidPassword | InvalidUrl | InvalidDomain | InvalidSettings | InvalidTagName
            | InvalidTrigger | InvalidGreeting => StatusCode::UNPROCESSABLE_ENTITY,
            InvalidId | InvalidJson | InvalidFrame | UnsupportedVersion | HelloRequired
            | InvalidFilter | InvalidSearch => StatusCode::BAD_REQUEST,
            FrameTooLarge | BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnknownSiteKey | NotFound => StatusCode::NOT_FOUND,
            InvalidVisitorToken | VisitorTokenExpired | Unauthenticated | InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden | CsrfRejected | InvalidSetupToken | Banned | OriginNotAllowed => {
                StatusCode::FORBIDDEN
            }
            Conflict | AlreadyAssigned | AgentAtCapacity | InvalidTransition | SetupDone
            | VisitorOffline => StatusCode::CONFLICT,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            InvalidShortcut | InvalidTitle | UnknownVariable | InvalidPhone | InvalidCompany
            | InvalidAttribute | InvalidMerge => StatusCode::UNPROCESSABLE_ENTITY,
            LimitReached => StatusCode::CONFLICT,
            FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FileTypeNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidColor | InvalidWidgetText | InvalidPageRule => StatusCode::UNPROCESSABLE_ENTITY,
            InvalidForm | InvalidRating => StatusCode::UNPROCESSABLE_ENTITY,
            NotResolved => StatusCode::CONFLICT,
            IdentityInvalid => StatusCode::FORBIDDEN,
            InvalidEvent => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "log in first")
    }
    pub fn forbidden(why: &str) -> Self {
        Self::new(ErrorCode::Forbidden, why)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(ErrorCode::Internal, "something went wrong on the server")
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict => Self::new(ErrorCode::Conflict, "already exists"),
            StoreError::Forbidden => {
                Self::forbidden("agents may only change their own or unassigned conversations")
            }
            StoreError::Transition(t) => Self::from(t),
            StoreError::AtCapacity(name) => Self::new(
                ErrorCode::AgentAtCapacity,
                format!("{name} already has as many chats as their limit allows"),
            ),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                Self::new(
                    ErrorCode::Unavailable,
                    "storage is unavailable; nothing was stored, try again",
                )
            }
            StoreError::Full(cause) => {
                tracing::error!(%cause, "storage full: writes fail until space is freed");
                Self::new(
                    ErrorCode::Unavailable,
                    "the server's storage is full; nothing was stored, try again later",
                )
            }
            StoreError::Closed => Self::new(
                ErrorCode::Unavailable,
                "the server is shutting down; try again",
            ),
            StoreError::TooManyTags => Self::new(
                ErrorCode::LimitReached,
                format!(
                    "at most {} tags per organization and {} per conversation",
                    frontdesk_core::tags::MAX_TAGS_PER_ORGANIZATION,
                    frontdesk_core::tags::MAX_TAGS_PER_CONVERSATION
                ),
            ),
            StoreError::Contact(e) => Self::from(e),
            StoreError::TooManyFiles => Self::new(
                ErrorCode::LimitReached,
                format!(
                    "at most {} files uploaded in an hour may wait to be sent; send them first",
                    frontdesk_store::MAX_UNSENT_FILES
                ),
            ),
        }
    }
}

impl From<frontdesk_core::tags::BadTagName> for ApiError {
    fn from(e: frontdesk_core::tags::BadTagName) -> Self {
        Self::new(ErrorCode::InvalidTagName, e.to_string())
    }
}

impl From<frontdesk_core::tags::FilterError> for ApiError {
    fn from(e: frontdesk_core::tags::FilterError) -> Self {
        Self::new(ErrorCode::InvalidFilter, e.to_string())
    }
}

impl From<frontdesk_core::contacts::ContactError> for ApiError {
    fn from(e: frontdesk_core::contacts::ContactError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<frontdesk_core::contacts::ContactFilterError> for ApiError {
    fn from(e: frontdesk_core::contacts::ContactFilterError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<frontdesk_core::search::SearchError> for ApiError {
    fn from(e: frontdesk_core::search::SearchError) -> Self {
        Self::new(ErrorCode::InvalidSearch, e.to_string())
    }
}

impl From<frontdesk_core::identity::IdentityError> for ApiError {
    fn from(e: frontdesk_core::identity::IdentityError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// A visitor token that cannot be used, as the widget is told (it starts a new session).
impl From<crate::tokens::TokenError> for ApiError {
    fn from(e: crate::tokens::TokenError) -> Self {
        match e {
            crate::tokens::TokenError::Expired => Self::new(
                ErrorCode::VisitorTokenExpired,
                "the visitor token has expired; start a new session",
            ),
            crate::tokens::TokenError::Invalid => Self::new(
                ErrorCode::InvalidVisitorToken,
                "the visitor token is not valid",
            ),
        }
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        let code = match e {
            TransitionError::AlreadyAssigned => ErrorCode::AlreadyAssigned,
            _ => ErrorCode::InvalidTransition,
        };
        Self::new(code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Problem {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: self.detail,
            code: self.code,
        };
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&body).unwrap_or_default(),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
