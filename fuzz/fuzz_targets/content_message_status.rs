//! Message status reports and derived values: never panic; accepted input is canonical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_content::MessageDerivedValues;
use mimi_content::status::MessageStatusReport;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = MessageStatusReport::decode(data) {
        assert_eq!(report.encode(), data);
    }
    if let Ok(derived) = MessageDerivedValues::decode(data) {
        assert_eq!(derived.encode(), data);
    }
});
