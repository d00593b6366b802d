//! The frame parser and dispatcher: any text a page sends gets at most one reply, never a
//! panic. The prompter approves the site and then cancels, so every path up to the key choice
//! (parsing, filters, base64, XML checks, verification) runs.
#![no_main]

use std::sync::{Arc, OnceLock};

use qoltanba_protocol::{
    AfterRefusal, CallContext, Cancel, Choice, Connection, Dispatcher, KeyRequest,
    MemoryOriginStore, Offer, OriginDecision, PromptError, Prompter, Refusal, Settings,
};

struct Cancels;

impl Prompter for Cancels {
    fn approve_origin(&self, _: &CallContext) -> OriginDecision {
        OriginDecision::AllowOnce
    }
    fn choose_key(
        &self,
        _: &CallContext,
        _: &KeyRequest<'_>,
        _: &[Offer],
    ) -> Result<Choice, PromptError> {
        Err(PromptError::Cancelled)
    }
    fn refused(&self, _: &CallContext, _: &KeyRequest<'_>, _: &Refusal) -> AfterRefusal {
        AfterRefusal::GiveUp
    }
}

fn dispatcher() -> &'static Dispatcher {
    static D: OnceLock<Dispatcher> = OnceLock::new();
    D.get_or_init(|| {
        Dispatcher::new(
            Arc::new(Cancels),
            Arc::new(MemoryOriginStore::default()),
            Settings::default(),
        )
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let conn = Connection::new(Some("https://fuzz.example"));
        if let Some(reply) = dispatcher().handle(text, &conn, &Cancel::new()) {
            assert!(!reply.is_empty());
        }
    }
});
