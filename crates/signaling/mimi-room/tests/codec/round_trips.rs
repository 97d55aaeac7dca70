//! Round trips: every component, arbitrary (proptest) and fixed samples, decodes to itself.

use crate::common::*;
use crate::strategies::*;
use mimi_room::components::*;
use mimi_room::presets;
use proptest::prelude::*;

fn check<T: Component + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.encode();
    prop_assert_eq!(&T::decode(&bytes).unwrap(), value);
    Ok(())
}

proptest! {
    #[test]
    fn participant_list_round_trips(v in arb_participant_list()) { check(&v)?; }

    #[test]
    fn participant_list_update_round_trips(v in arb_update()) { check(&v)?; }

    #[test]
    fn roles_round_trip(v in arb_roles()) { check(&v)?; }

    #[test]
    fn base_policy_round_trips(v in arb_base_policy()) { check(&v)?; }

    #[test]
    fn metadata_round_trips(v in arb_metadata()) { check(&v)?; }

    #[test]
    fn expiration_round_trips(v in arb_expiration()) { check(&v)?; }

    #[test]
    fn preauth_round_trips(v in arb_preauth()) { check(&v)?; }

    #[test]
    fn link_preview_round_trips(v in arb_link_preview()) { check(&v)?; }

    #[test]
    fn join_links_update_round_trips(v in arb_join_links_update()) { check(&v)?; }

    #[test]
    fn status_round_trips(v in arb_status()) { check(&v)?; }

    #[test]
    fn hub_retracted_messages_round_trip(v in arb_retracted_messages()) { check(&v)?; }

    #[test]
    fn hub_retracted_range_round_trips(v in arb_retracted_range()) { check(&v)?; }

    #[test]
    fn server_policy_round_trips(v in arb_server_policy()) { check(&v)?; }
}

proptest! {
    #[test]
    fn asset_policy_round_trips(v in arb_asset()) { check(&v)?; }

    #[test]
    fn logging_policy_round_trips(v in arb_logging()) { check(&v)?; }

    #[test]
    fn history_policy_round_trips(v in arb_history()) { check(&v)?; }

    #[test]
    fn bot_policy_round_trips(v in arb_bots()) { check(&v)?; }

    #[test]
    fn join_link_policy_round_trips(v in arb_join_link_policy()) { check(&v)?; }

    #[test]
    fn join_links_round_trip(v in arb_join_links()) { check(&v)?; }

    #[test]
    fn operational_policy_round_trips(v in arb_operational()) { check(&v)?; }
}

#[test]
fn fixed_samples_round_trip() {
    check(&join_link_policy()).unwrap();
    check(&join_links()).unwrap();
    check(&asset_policy()).unwrap();
    check(&logging_policy()).unwrap();
    check(&LoggingPolicy::Forbidden).unwrap();
    check(&history_policy()).unwrap();
    check(&HistoryPolicy::Forbidden).unwrap();
    check(&bot_policy()).unwrap();
    check(&operational_policy()).unwrap();
    for preset in presets::Preset::ALL {
        check(&preset.roles()).unwrap();
        check(&preset.base_policy()).unwrap();
    }
}
