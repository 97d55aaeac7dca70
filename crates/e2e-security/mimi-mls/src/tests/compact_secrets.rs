//! The direct compact serializer (`store/compact/ser.rs`) on openmls's real message secrets:
//! every value a test writes in the compact codec is also encoded through `serde_json::Value`
//! and the two compared (`store/codec.rs`, `value_path`); here groups of several sizes, with
//! past epochs kept, write theirs.

use crate::store::codec::value_path;
use crate::store::compact;
use crate::store::labels::LABEL_MESSAGE_SECRETS;

use super::entries::room;

#[test]
fn real_message_secrets_encode_as_through_the_value_path() {
    for (others, commits) in [(0, 0), (1, 1), (8, 3), (40, 4)] {
        let before = value_path::compared();
        let (mut net, _) = room(others, commits);
        net.message("alice1", "hello");
        net.message("bob1", "hi");
        assert!(
            value_path::compared() >= before + 2 * (others + 2),
            "every device wrote its message secrets"
        );
        // What was compared holds the past epochs.
        let values = net.groups["bob1"].storage_values();
        let (_, secrets) = values
            .iter()
            .find(|(k, _)| k.starts_with(LABEL_MESSAGE_SECRETS))
            .unwrap();
        let v = compact::decode(&secrets[1..]).unwrap();
        let past = v["past_epoch_trees"].as_array().unwrap().len();
        assert_eq!(past > 0, commits > 0, "{others} {commits}: {past}");
    }
}
