//! The widget's forms: the pre-chat form a site asks before the first message (and, with the
//! email required, before an offline message), and the end-of-chat ratings (CSAT and CES).
//!
//! A site's settings ([`SiteForms`]) are checked once when an admin saves them
//! ([`SiteForms::check`]); a visitor's answers are checked against the form the widget was
//! shown ([`effective_form`], [`validate`]), field by field, each refusal typed
//! ([`FieldErrorCode`]) so the widget can mark the very field.
//!
//! Rules (each proved by a test below):
//! - Fields are `name`, `email`, `phone`, `department` (each at most once, its key fixed) and
//!   custom fields of kind `text`, `number`, `select` (with options) or `checkbox`, whose keys
//!   are contact attribute keys (`a-z`, `0-9`, `_`), not one of the four fixed keys, unique.
//!   At most [`MAX_FIELDS`] fields, labels of 1 to [`MAX_LABEL_CHARS`] characters, a select
//!   has 1 to [`MAX_OPTIONS`] distinct options of 1 to [`MAX_OPTION_CHARS`] characters.
//! - The department field's options are the site's routing departments, never typed by the
//!   admin; a site that routes by department but has no form on still asks for one (the
//!   department alone, required), so routing keeps its answer.
//! - An answer left out, `null`, blank text or an unticked box is "not answered"; a required
//!   field must be answered (a required checkbox must be ticked). Offline, the email is
//!   required, and asked even when the form has no email field.
//! - Text answers are one line (no control characters), trimmed, at most
//!   [`MAX_ATTRIBUTE_VALUE_CHARS`]; a number is a finite JSON number (or text that reads as
//!   one); a select's answer is one of its options, exactly.
//! - A rating is a CSAT of 1 to 5, a CES of 1 to 5 only where the site asks for it, and a
//!   comment of at most [`MAX_COMMENT_CHARS`] characters.

use crate::Millis;
use crate::contacts::{
    AttributeValue, Attributes, MAX_ATTRIBUTE_VALUE_CHARS, attribute_key, contact_name, email,
    phone,
};
use crate::ids::ConversationId;
use crate::input::{Email, ErrorCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use ts_rs::TS;

pub const MAX_FIELDS: usize = 20;
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_OPTIONS: usize = 20;
pub const MAX_OPTION_CHARS: usize = 100;
/// Longest comment a visitor may leave with a rating.
pub const MAX_COMMENT_CHARS: usize = 1_000;
/// Longest text that may stand for a number.
const MAX_NUMBER_CHARS: usize = 32;

/// What a field asks for. The first four have fixed keys and land on the contact's profile
/// (the department as the `department` attribute, which routing reads); the others land on
/// the contact's custom attributes under their key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    Name,
    Email,
    Phone,
    Department,
    Text,
    Number,
    Select,
    Checkbox,
}

impl FieldKind {
    /// The key of a standard field; `None` for custom fields, whose key the admin picks.
    pub fn fixed_key(self) -> Option<&'static str> {
        match self {
            Self::Name => Some("name"),
            Self::Email => Some("email"),
            Self::Phone => Some("phone"),
            Self::Department => Some("department"),
            _ => None,
        }
    }
}

/// One field of a pre-chat form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FormField {
    pub key: String,
    pub kind: FieldKind,
    pub label: String,
    #[serde(default)]
    pub required: bool,
    /// A select's choices; for the department field, the site's departments (filled in by the
    /// server for the widget). Empty for other kinds.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A site's pre-chat form: asked before the first message while `enabled`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PrechatForm {
    pub enabled: bool,
    pub fields: Vec<FormField>,
}

/// What the widget asks when a conversation is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EndOfChat {
    /// Ask "How would you rate this chat?" (1–5, with an optional comment).
    pub csat: bool,
    /// Also ask "How easy was it to get help?" (customer effort, 1–5).
    pub ces: bool,
}

impl Default for EndOfChat {
    fn default() -> Self {
        Self {
            csat: true,
            ces: false,
        }
    }
}

/// `GET`/`PUT /api/v1/websites/{id}/forms`: a site's pre-chat form and end-of-chat questions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SiteForms {
    pub prechat: PrechatForm,
    pub end_of_chat: EndOfChat,
}

/// Why a site's form settings were refused (`invalid_settings`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormSettingsError {
    #[error("a form has at most {MAX_FIELDS} fields")]
    TooManyFields,
    #[error("field {0}: a label is 1 to {MAX_LABEL_CHARS} characters on one line")]
    BadLabel(usize),
    #[error(
        "field {0}: a custom field's key is 1 to 40 of a-z, 0-9 and _, and not name, email, phone or department"
    )]
    BadKey(usize),
    #[error("field {0}: the key `{1}` is used twice")]
    DuplicateKey(usize, String),
    #[error(
        "field {0}: a select needs 1 to {MAX_OPTIONS} different options of 1 to {MAX_OPTION_CHARS} characters"
    )]
    BadOptions(usize),
    #[error("field {0}: only a select has options")]
    UnexpectedOptions(usize),
}

fn one_line(raw: &str, max: usize) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control))
        .then(|| t.to_owned())
}

impl SiteForms {
    /// Checks and tidies the settings as an admin saved them: labels and options trimmed,
    /// custom keys lower-cased, standard fields given their fixed keys. Field numbers in the
    /// errors count from 1.
    pub fn check(mut self) -> Result<Self, FormSettingsError> {
        let fields = &mut self.prechat.fields;
        if fields.len() > MAX_FIELDS {
            return Err(FormSettingsError::TooManyFields);
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, f) in fields.iter_mut().enumerate() {
            let n = i + 1;
            f.label = one_line(&f.label, MAX_LABEL_CHARS).ok_or(FormSettingsError::BadLabel(n))?;
            f.key = match f.kind.fixed_key() {
                Some(k) => k.to_owned(),
                None => {
                    let k = attribute_key(&f.key).map_err(|_| FormSettingsError::BadKey(n))?;
                    if ["name", "email", "phone", "department"].contains(&k.as_str()) {
                        return Err(FormSettingsError::BadKey(n));
                    }
                    k
                }
            };
            if seen.contains(&f.key) {
                return Err(FormSettingsError::DuplicateKey(n, f.key.clone()));
            }
            seen.push(f.key.clone());
            match f.kind {
                FieldKind::Select => {
                    let mut opts: Vec<String> = Vec::new();
                    for o in &f.options {
                        let o = one_line(o, MAX_OPTION_CHARS)
                            .ok_or(FormSettingsError::BadOptions(n))?;
                        if opts.contains(&o) {
                            return Err(FormSettingsError::BadOptions(n));
                        }
                        opts.push(o);
                    }
                    if opts.is_empty() || opts.len() > MAX_OPTIONS {
                        return Err(FormSettingsError::BadOptions(n));
                    }
                    f.options = opts;
                }
                // The department's options come from routing, so any sent are dropped.
                FieldKind::Department => f.options.clear(),
                _ if !f.options.is_empty() => {
                    return Err(FormSettingsError::UnexpectedOptions(n));
                }
                _ => {}
            }
        }
        Ok(self)
    }
}

/// The form the widget shows on a site that routes by `departments`: the site's form when it
/// is on (its department field offering the departments, or dropped when there are none), else
/// the department alone when the site routes by one, else none.
pub fn effective_form(forms: &SiteForms, departments: &[String]) -> Option<PrechatForm> {
    let fields: Vec<FormField> = if forms.prechat.enabled {
        forms
            .prechat
            .fields
            .iter()
            .filter(|f| f.kind != FieldKind::Department || !departments.is_empty())
            .map(|f| match f.kind {
                FieldKind::Department => FormField {
                    options: departments.to_vec(),
                    ..f.clone()
                },
                _ => f.clone(),
            })
            .collect()
    } else if !departments.is_empty() {
        vec![FormField {
            key: "department".into(),
            kind: FieldKind::Department,
            label: "What is this about?".into(),
            required: true,
            options: departments.to_vec(),
        }]
    } else {
        Vec::new()
    };
    (!fields.is_empty()).then_some(PrechatForm {
        enabled: true,
        fields,
    })
}

/// The form for an offline message: the same fields, the email required (added first when the
/// form has none).
pub fn offline_form(form: Option<&PrechatForm>) -> PrechatForm {
    let mut fields = form.map(|f| f.fields.clone()).unwrap_or_default();
    match fields.iter_mut().find(|f| f.kind == FieldKind::Email) {
        Some(f) => f.required = true,
        None => fields.insert(
            0,
            FormField {
                key: "email".into(),
                kind: FieldKind::Email,
                label: "Your email".into(),
                required: true,
                options: Vec::new(),
            },
        ),
    }
    PrechatForm {
        enabled: true,
        fields,
    }
}

/// `POST /api/v1/widget/prechat`: the visitor's answers, by field key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PrechatSubmission {
    #[ts(type = "Record<string, string | number | boolean | null>")]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// The visitor is leaving a message for later (nobody online, outside the hours): the
    /// email is required. The server also treats the form as offline when it knows the chat
    /// is.
    #[serde(default)]
    pub offline: bool,
}

/// Why one answer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, Error)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldErrorCode {
    #[error("this field is required")]
    Required,
    #[error("this answer is too long or not on one line")]
    InvalidText,
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("not a valid phone number")]
    InvalidPhone,
    #[error("a name is at most 200 characters")]
    InvalidName,
    #[error("not a number")]
    NotANumber,
    #[error("not one of the choices")]
    NotAnOption,
    #[error("tick the box or leave it")]
    NotABoolean,
    #[error("this form has no such field")]
    UnknownField,
}

/// One refused answer: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldError {
    pub key: String,
    pub code: FieldErrorCode,
    pub message: String,
}

impl FieldError {
    fn new(key: &str, code: FieldErrorCode) -> Self {
        Self {
            key: crate::clip_chars(key, 50),
            message: code.to_string(),
            code,
        }
    }
}

/// One answer as agents read it on the conversation: the field's label then, and the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FormAnswer {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub value: AttributeValue,
}

/// Answers that passed every rule, ready for the contact and the conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidAnswers {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
    /// Also among `attributes`, as `department`.
    pub department: Option<String>,
    /// Custom fields and the department, for the contact's attributes.
    pub attributes: Attributes,
    /// Every answered field in the form's order.
    pub answers: Vec<FormAnswer>,
}

fn blank(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.trim().is_empty(),
        serde_json::Value::Bool(b) => !b,
        _ => false,
    }
}

fn answer(f: &FormField, v: &serde_json::Value) -> Result<AttributeValue, FieldErrorCode> {
    use FieldErrorCode::*;
    use serde_json::Value;
    let text = || match v {
        Value::String(s) => Ok(s.as_str()),
        _ => Err(InvalidText),
    };
    Ok(match f.kind {
        FieldKind::Name => AttributeValue::Text(
            contact_name(text().map_err(|_| InvalidName)?)
                .ok()
                .flatten()
                .ok_or(InvalidName)?,
        ),
        FieldKind::Email => AttributeValue::Text(
            email(text().map_err(|_| InvalidEmail)?)
                .ok()
                .flatten()
                .ok_or(InvalidEmail)?
                .as_str()
                .to_owned(),
        ),
        FieldKind::Phone => AttributeValue::Text(
            phone(text().map_err(|_| InvalidPhone)?)
                .ok()
                .flatten()
                .ok_or(InvalidPhone)?,
        ),
        FieldKind::Text => {
            AttributeValue::Text(one_line(text()?, MAX_ATTRIBUTE_VALUE_CHARS).ok_or(InvalidText)?)
        }
        FieldKind::Department | FieldKind::Select => {
            let t = text().map_err(|_| NotAnOption)?.trim();
            if !f.options.iter().any(|o| o == t) {
                return Err(NotAnOption);
            }
            AttributeValue::Text(t.to_owned())
        }
        FieldKind::Number => {
            let n = match v {
                Value::Number(n) => n.clone(),
                Value::String(s) if s.trim().len() <= MAX_NUMBER_CHARS => {
                    let f: f64 = s.trim().parse().map_err(|_| NotANumber)?;
                    // Whole numbers stay whole (`3`, not `3.0`).
                    if f.fract() == 0.0 && f.abs() < 1e15 {
                        serde_json::Number::from(f as i64)
                    } else {
                        serde_json::Number::from_f64(f).ok_or(NotANumber)?
                    }
                }
                _ => return Err(NotANumber),
            };
            if n.as_f64().is_none_or(|f| !f.is_finite()) {
                return Err(NotANumber);
            }
            AttributeValue::Number(n)
        }
        FieldKind::Checkbox => match v {
            Value::Bool(b) => AttributeValue::Bool(*b),
            _ => return Err(NotABoolean),
        },
    })
}

/// Checks a visitor's answers against `form` (offline: with the email required). Every
/// refused field is named, in the form's order; an answer for a field the form lacks is
/// refused too.
pub fn validate(
    form: &PrechatForm,
    sub: &PrechatSubmission,
    offline: bool,
) -> Result<ValidAnswers, Vec<FieldError>> {
    let form = if offline {
        offline_form(Some(form))
    } else {
        form.clone()
    };
    let mut errors: Vec<FieldError> = Vec::new();
    if sub.answers.len() > MAX_FIELDS {
        errors.push(FieldError::new("answers", FieldErrorCode::UnknownField));
        return Err(errors);
    }
    for k in sub.answers.keys() {
        if !form.fields.iter().any(|f| &f.key == k) {
            errors.push(FieldError::new(k, FieldErrorCode::UnknownField));
        }
    }
    let mut out = ValidAnswers::default();
    for f in &form.fields {
        let v = sub.answers.get(&f.key).unwrap_or(&serde_json::Value::Null);
        // A non-boolean in a checkbox is an error even when it reads as blank (`""`).
        if blank(v) && !(f.kind == FieldKind::Checkbox && !v.is_boolean() && !v.is_null()) {
            if f.required {
                errors.push(FieldError::new(&f.key, FieldErrorCode::Required));
            }
            continue;
        }
        let value = match answer(f, v) {
            Ok(value) => value,
            Err(code) => {
                errors.push(FieldError::new(&f.key, code));
                continue;
            }
        };
        let text = value.as_text();
        match f.kind {
            FieldKind::Name => out.name = Some(text),
            FieldKind::Email => out.email = Email::parse(&text).ok(),
            FieldKind::Phone => out.phone = Some(text),
            FieldKind::Department => {
                out.department = Some(text);
                out.attributes.insert(f.key.clone(), value.clone());
            }
            _ => {
                out.attributes.insert(f.key.clone(), value.clone());
            }
        }
        out.answers.push(FormAnswer {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind,
            value,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The answers kept with a conversation, as agents see them in its side panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SubmittedForm {
    pub answers: Vec<FormAnswer>,
    /// Given as an offline message (nobody online, or outside the hours).
    pub offline: bool,
    #[ts(type = "number")]
    pub submitted_at: Millis,
}

// ---- end of chat ----

/// `POST /api/v1/widget/rating`: the visitor rates their resolved conversation. Sent again,
/// it replaces the earlier rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct RatingRequest {
    pub conversation_id: ConversationId,
    /// Satisfaction, 1 (very unhappy) to 5 (very happy).
    #[ts(type = "number")]
    pub csat: i64,
    /// Customer effort, 1 (very hard) to 5 (very easy); only where the site asks for it.
    #[ts(type = "number | null")]
    pub ces: Option<i64>,
    pub comment: Option<String>,
}

/// A conversation's rating, as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Rating {
    pub csat: u8,
    pub ces: Option<u8>,
    pub comment: Option<String>,
    #[ts(type = "number")]
    pub rated_at: Millis,
}

/// `GET /api/v1/conversations/{id}/feedback`: what the visitor told through the widget's forms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationFeedback {
    pub form: Option<SubmittedForm>,
    pub rating: Option<Rating>,
}

/// Why a rating was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RatingError {
    #[error("a CSAT score is a whole number from 1 to 5")]
    BadCsat,
    #[error("a customer effort score is a whole number from 1 to 5")]
    BadCes,
    #[error("this site does not ask for customer effort")]
    CesNotAsked,
    #[error("this site does not ask for ratings")]
    CsatNotAsked,
    #[error("a comment is at most {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
}

impl RatingError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidRating
    }
}

fn score(v: i64) -> Option<u8> {
    (1..=5).contains(&v).then_some(v as u8)
}

/// Checks a rating against what the site asks (`settings`); `now` is when it was given.
/// A blank comment is none; a comment keeps its line breaks but no other control characters.
pub fn check_rating(
    req: &RatingRequest,
    settings: EndOfChat,
    now: Millis,
) -> Result<Rating, RatingError> {
    if !settings.csat {
        return Err(RatingError::CsatNotAsked);
    }
    let csat = score(req.csat).ok_or(RatingError::BadCsat)?;
    let ces = match req.ces {
        None => None,
        Some(_) if !settings.ces => return Err(RatingError::CesNotAsked),
        Some(v) => Some(score(v).ok_or(RatingError::BadCes)?),
    };
    let comment = match req.comment.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            if c.chars().count() > MAX_COMMENT_CHARS {
                return Err(RatingError::CommentTooLong);
            }
            Some(
                c.chars()
                    .map(|ch| {
                        if ch.is_control() && ch != '\n' {
                            ' '
                        } else {
                            ch
                        }
                    })
                    .collect(),
            )
        }
    };
    Ok(Rating {
        csat,
        ces,
        comment,
        rated_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kind: FieldKind, key: &str, required: bool) -> FormField {
        FormField {
            key: key.into(),
            kind,
            label: format!("Label {key}"),
            required,
            options: Vec::new(),
        }
    }

    fn form(fields: Vec<FormField>) -> PrechatForm {
        PrechatForm {
            enabled: true,
            fields,
        }
    }

    fn sub(v: serde_json::Value) -> PrechatSubmission {
        PrechatSubmission {
            answers: serde_json::from_value(v).unwrap(),
            offline: false,
        }
    }

    fn codes(r: Result<ValidAnswers, Vec<FieldError>>) -> Vec<(String, FieldErrorCode)> {
        r.unwrap_err()
            .into_iter()
            .map(|e| (e.key, e.code))
            .collect()
    }

    fn full() -> PrechatForm {
        let mut plan = field(FieldKind::Select, "plan", true);
        plan.options = vec!["Free".into(), "Pro".into()];
        let mut dept = field(FieldKind::Department, "department", true);
        dept.options = vec!["Sales".into(), "Billing".into()];
        form(vec![
            field(FieldKind::Name, "name", true),
            field(FieldKind::Email, "email", false),
            field(FieldKind::Phone, "phone", false),
            dept,
            plan,
            field(FieldKind::Number, "seats", false),
            field(FieldKind::Checkbox, "agree", true),
            field(FieldKind::Text, "order_ref", false),
        ])
    }

    #[test]
    fn good_answers_split_into_profile_attributes_and_answers() {
        let v = validate(
            &full(),
            &sub(
                json!({"name": " Ann ", "email": "ANN@X.TEST", "phone": "+1 555  0100",
                "department": "Billing", "plan": "Pro", "seats": "12", "agree": true,
                "order_ref": "A-1"}),
            ),
            false,
        )
        .unwrap();
        assert_eq!(v.name.as_deref(), Some("Ann"));
        assert_eq!(v.email.unwrap().as_str(), "ann@x.test");
        assert_eq!(v.phone.as_deref(), Some("+1 555 0100"));
        assert_eq!(v.department.as_deref(), Some("Billing"));
        assert_eq!(
            v.attributes["department"],
            AttributeValue::Text("Billing".into())
        );
        assert_eq!(v.attributes["seats"], AttributeValue::Number(12.into()));
        assert_eq!(v.attributes["agree"], AttributeValue::Bool(true));
        assert!(!v.attributes.contains_key("name"));
        let keys: Vec<_> = v.answers.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "name",
                "email",
                "phone",
                "department",
                "plan",
                "seats",
                "agree",
                "order_ref"
            ]
        );
        assert_eq!(v.answers[0].label, "Label name");
    }

    #[test]
    fn each_kind_refuses_its_own_bad_answers() {
        let r = validate(
            &full(),
            &sub(
                json!({"name": "x".repeat(201), "email": "not-an-email", "phone": "abc",
                "department": "billing", "plan": "Enterprise", "seats": "many",
                "agree": "yes", "order_ref": "a\nb"}),
            ),
            false,
        );
        assert_eq!(
            codes(r),
            [
                ("name".into(), FieldErrorCode::InvalidName),
                ("email".into(), FieldErrorCode::InvalidEmail),
                ("phone".into(), FieldErrorCode::InvalidPhone),
                ("department".into(), FieldErrorCode::NotAnOption),
                ("plan".into(), FieldErrorCode::NotAnOption),
                ("seats".into(), FieldErrorCode::NotANumber),
                ("agree".into(), FieldErrorCode::NotABoolean),
                ("order_ref".into(), FieldErrorCode::InvalidText),
            ]
        );
        let long = validate(
            &full(),
            &sub(
                json!({"name": "A", "department": "Sales", "plan": "Free", "agree": true,
                "order_ref": "y".repeat(MAX_ATTRIBUTE_VALUE_CHARS + 1), "seats": "1e400"}),
            ),
            false,
        );
        let c = codes(long);
        assert!(c.contains(&("order_ref".into(), FieldErrorCode::InvalidText)));
        assert!(c.contains(&("seats".into(), FieldErrorCode::NotANumber)));
    }

    #[test]
    fn required_fields_must_be_answered_and_a_required_box_ticked() {
        let r = validate(
            &full(),
            &sub(json!({"name": "  ", "department": null, "agree": false})),
            false,
        );
        assert_eq!(
            codes(r),
            [
                ("name".into(), FieldErrorCode::Required),
                ("department".into(), FieldErrorCode::Required),
                ("plan".into(), FieldErrorCode::Required),
                ("agree".into(), FieldErrorCode::Required),
            ]
        );
        // Optional fields may be left out entirely.
        let ok = validate(
            &full(),
            &sub(json!({"name": "A", "department": "Sales", "plan": "Free", "agree": true})),
            false,
        )
        .unwrap();
        assert_eq!(ok.email, None);
        assert!(!ok.attributes.contains_key("seats"));
    }

    #[test]
    fn unknown_fields_and_too_many_answers_are_refused() {
        let r = validate(
            &full(),
            &sub(
                json!({"name": "A", "department": "Sales", "plan": "Free", "agree": true,
                "is_admin": true}),
            ),
            false,
        );
        assert_eq!(
            codes(r),
            [("is_admin".into(), FieldErrorCode::UnknownField)]
        );
        let many: serde_json::Map<String, serde_json::Value> = (0..=MAX_FIELDS)
            .map(|i| (format!("k{i}"), json!("v")))
            .collect();
        let r = validate(&full(), &sub(serde_json::Value::Object(many)), false);
        assert_eq!(r.unwrap_err().len(), 1);
    }

    #[test]
    fn offline_the_email_is_required_and_asked_even_when_missing() {
        let f = form(vec![field(FieldKind::Name, "name", false)]);
        assert!(validate(&f, &sub(json!({})), false).is_ok());
        assert_eq!(
            codes(validate(&f, &sub(json!({})), true)),
            [("email".into(), FieldErrorCode::Required)]
        );
        let v = validate(&f, &sub(json!({"email": "a@b.test"})), true).unwrap();
        assert_eq!(v.email.unwrap().as_str(), "a@b.test");
        let off = offline_form(None);
        assert_eq!(off.fields.len(), 1);
        assert!(off.fields[0].required);
    }

    #[test]
    fn the_department_comes_from_routing_and_is_asked_without_a_form() {
        let depts = vec!["Sales".to_string(), "Billing".to_string()];
        let mut forms = SiteForms::default();
        assert_eq!(effective_form(&forms, &[]), None);
        let alone = effective_form(&forms, &depts).unwrap();
        assert_eq!(alone.fields.len(), 1);
        assert_eq!(alone.fields[0].kind, FieldKind::Department);
        assert!(alone.fields[0].required);
        assert_eq!(alone.fields[0].options, depts);
        forms.prechat = form(vec![
            field(FieldKind::Name, "name", true),
            field(FieldKind::Department, "department", false),
        ]);
        let f = effective_form(&forms, &depts).unwrap();
        assert_eq!(f.fields[1].options, depts);
        assert!(!f.fields[1].required);
        // No departments to route by: the field is not asked.
        assert_eq!(effective_form(&forms, &[]).unwrap().fields.len(), 1);
    }

    #[test]
    fn settings_are_checked_and_tidied() {
        let mut s = SiteForms::default();
        let mut sel = field(FieldKind::Select, " Plan_Type ", true);
        sel.options = vec![" Free ".into(), "Pro".into()];
        let mut dept = field(FieldKind::Department, "whatever", false);
        dept.options = vec!["typed".into()];
        s.prechat = form(vec![field(FieldKind::Email, "x", true), sel, dept]);
        let c = s.clone().check().unwrap();
        assert_eq!(c.prechat.fields[0].key, "email");
        assert_eq!(c.prechat.fields[1].key, "plan_type");
        assert_eq!(c.prechat.fields[1].options, ["Free", "Pro"]);
        assert_eq!(c.prechat.fields[2].key, "department");
        assert!(c.prechat.fields[2].options.is_empty());

        let bad = |fields: Vec<FormField>| {
            SiteForms {
                prechat: form(fields),
                ..Default::default()
            }
            .check()
            .unwrap_err()
        };
        assert_eq!(
            bad(vec![field(FieldKind::Text, "bad key!", false)]),
            FormSettingsError::BadKey(1)
        );
        assert_eq!(
            bad(vec![field(FieldKind::Text, "email", false)]),
            FormSettingsError::BadKey(1)
        );
        assert!(matches!(
            bad(vec![
                field(FieldKind::Name, "a", false),
                field(FieldKind::Name, "b", false)
            ]),
            FormSettingsError::DuplicateKey(2, _)
        ));
        let mut nolabel = field(FieldKind::Text, "t", false);
        nolabel.label = " ".into();
        assert_eq!(bad(vec![nolabel]), FormSettingsError::BadLabel(1));
        assert_eq!(
            bad(vec![field(FieldKind::Select, "s", false)]),
            FormSettingsError::BadOptions(1)
        );
        let mut dup = field(FieldKind::Select, "s", false);
        dup.options = vec!["a".into(), "a".into()];
        assert_eq!(bad(vec![dup]), FormSettingsError::BadOptions(1));
        let mut opts = field(FieldKind::Text, "t", false);
        opts.options = vec!["a".into()];
        assert_eq!(bad(vec![opts]), FormSettingsError::UnexpectedOptions(1));
        let many = (0..=MAX_FIELDS)
            .map(|i| field(FieldKind::Text, &format!("f{i}"), false))
            .collect();
        assert_eq!(bad(many), FormSettingsError::TooManyFields);
    }

    #[test]
    fn a_rating_is_bounded_and_ces_only_when_asked() {
        let req = |csat, ces, comment: Option<&str>| RatingRequest {
            conversation_id: ConversationId("c".into()),
            csat,
            ces,
            comment: comment.map(str::to_owned),
        };
        let both = EndOfChat {
            csat: true,
            ces: true,
        };
        let r = check_rating(&req(4, Some(5), Some(" Quick\nand helpful ")), both, 7).unwrap();
        assert_eq!(
            r,
            Rating {
                csat: 4,
                ces: Some(5),
                comment: Some("Quick\nand helpful".into()),
                rated_at: 7
            }
        );
        assert_eq!(
            check_rating(&req(4, None, Some("  ")), both, 0)
                .unwrap()
                .comment,
            None
        );
        for bad in [0, 6, -1, 1000] {
            assert_eq!(
                check_rating(&req(bad, None, None), both, 0),
                Err(RatingError::BadCsat)
            );
            assert_eq!(
                check_rating(&req(3, Some(bad), None), both, 0),
                Err(RatingError::BadCes)
            );
        }
        assert_eq!(
            check_rating(&req(3, Some(3), None), EndOfChat::default(), 0),
            Err(RatingError::CesNotAsked)
        );
        let off = EndOfChat {
            csat: false,
            ces: false,
        };
        assert_eq!(
            check_rating(&req(3, None, None), off, 0),
            Err(RatingError::CsatNotAsked)
        );
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            check_rating(&req(3, None, Some(&long)), both, 0),
            Err(RatingError::CommentTooLong)
        );
        let ctl = check_rating(&req(3, None, Some("a\u{7}b")), both, 0).unwrap();
        assert_eq!(ctl.comment.as_deref(), Some("a b"));
    }

    proptest::proptest! {
        #[test]
        fn any_answers_either_pass_every_rule_or_name_a_field(
            name in ".{0,250}", email in ".{0,40}", seats in ".{0,40}", plan in ".{0,10}",
        ) {
            let r = validate(&full(), &sub(json!({"name": name, "email": email,
                "seats": seats, "plan": plan, "department": "Sales", "agree": true})), false);
            match r {
                Ok(v) => {
                    for a in &v.answers {
                        proptest::prop_assert!(a.value.as_text().chars().count() <= MAX_ATTRIBUTE_VALUE_CHARS);
                    }
                    proptest::prop_assert!(v.attributes.get("plan").is_some_and(|p| p.as_text() == "Free" || p.as_text() == "Pro"));
                }
                Err(errs) => proptest::prop_assert!(!errs.is_empty()),
            }
        }
    }
}
