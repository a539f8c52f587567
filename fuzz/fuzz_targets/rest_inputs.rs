//! Any bytes as REST bodies and their fields: parsing never panics, and what is accepted is
//! within its limits.
#![no_main]
use frontdesk_core::protocol::{CreateAgentRequest, LoginRequest, SetupRequest, WidgetSessionRequest};
use frontdesk_core::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = serde_json::from_str::<WidgetSessionRequest>(s);
    let _ = serde_json::from_str::<LoginRequest>(s);
    let _ = serde_json::from_str::<SetupRequest>(s);
    let _ = serde_json::from_str::<CreateAgentRequest>(s);
    if let Ok(e) = Email::parse(s) {
        assert!(e.as_str().len() <= MAX_EMAIL_BYTES && e.as_str().contains('@'));
    }
    if let Ok(n) = Name::parse(s) {
        assert!(n.as_str().chars().count() <= MAX_NAME_CHARS);
    }
    if let Ok(t) = MessageText::parse(s) {
        assert!(t.as_str().chars().count() <= MAX_MESSAGE_CHARS);
    }
    let _ = Domain::parse(s);
    let _ = Password::parse(s);
    let _ = ClientId::parse(s);
    let cut = clip(s, data.len() / 2);
    assert!(s.starts_with(&cut));
});
