//! Any bytes as a WebSocket text frame: parsing and validating never panics.
#![no_main]
use frontdesk_core::protocol::ClientFrame;
use frontdesk_core::{ClientId, ConversationId, MessageText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(frame) = serde_json::from_str::<ClientFrame>(text) {
        if let ClientFrame::Send { client_id, conversation_id, text, .. } = &frame {
            let _ = ClientId::parse(client_id);
            let _ = MessageText::parse(text);
            if let Some(c) = conversation_id {
                let _ = ConversationId::parse(c.as_str());
            }
        }
        // What parses must serialize back and parse to the same frame.
        let again = serde_json::to_string(&frame).unwrap();
        assert_eq!(serde_json::from_str::<ClientFrame>(&again).unwrap(), frame);
    }
});
